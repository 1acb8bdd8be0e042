"""The warroom hub: auth, the per-room ordered journal, and fan-out over websockets."""

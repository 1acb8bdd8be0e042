"""The Textual client: `WarroomApp` renders a room's replica and sends the user's commands."""

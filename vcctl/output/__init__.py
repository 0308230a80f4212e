"""What reaches the user: stdout and stderr (terminal, colour and JSON decisions), the one table
renderer, and the views of rooms, participants and messages."""

"""What a user asks for: argument parsing and the range checks shared by CLI, API and training."""

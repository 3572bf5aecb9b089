print("raft bench: pending")

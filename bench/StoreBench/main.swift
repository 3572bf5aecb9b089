print("store bench: pending")

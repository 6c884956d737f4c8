print("matinee")

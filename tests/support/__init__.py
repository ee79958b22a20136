"""What tests share: real servers and stores they start and stop themselves."""

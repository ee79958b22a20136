"""The notification queue's delivery side: one sender drains the queue (store/outbox.py)
through a transport per receiver kind, paced per receiver, most urgent first."""

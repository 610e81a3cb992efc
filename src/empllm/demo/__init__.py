"""`empllm demo`: the whole loop in one resumable command — simulate, curate, export, fine-tune with
and without the contemplation, run EmpTest on the base and both tuned models, write a report."""

"""EmpTest: a benchmark of empathy and emotional intelligence (items, tasks, scorers, report)."""

"""Assembly of data for the demo and the benchmarks: loads the reference data through each
app's services, creates demo accounts, and (later) a synthetic city population."""

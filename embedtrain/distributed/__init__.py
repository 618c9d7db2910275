"""Training across machines on Ray (skip-gram, CBOW, FastText): the input split
among workers (split.py, parts.py), replicas combined every interval (sync.py),
the Ray actors (workers.py), the cluster connection (cluster.py) and the driver
loop (executor.py). Ray is imported only by cluster.py, workers.py and executor.py,
and only when a run asks for it."""

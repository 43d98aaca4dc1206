"""SQLite storage of one node: schema, migrations, one store per domain, and the blob store.

Every SQL statement runs off the event loop: ``db.Database`` sends writes to one writer
thread (each inside ``BEGIN IMMEDIATE``) and reads to a small pool of reader threads. Store
methods are ``async`` wrappers around synchronous ``_x_txn(conn, ...)`` functions. Nothing
here imports federation, rpc or web.
"""

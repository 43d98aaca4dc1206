"""``python -m node.cli``: the same as the ``archive-node`` console script."""

from node.cli import main

if __name__ == "__main__":
    main()

"""`python -m service`: the same as the `serve` command."""

from service.main import main

main()

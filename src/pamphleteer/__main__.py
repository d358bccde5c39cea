from pamphleteer.cli import main

main()

from samen.cli import main

main()

from cityhealth.cli import main

main()

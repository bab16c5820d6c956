from lambdahost.cli.main import main

main()

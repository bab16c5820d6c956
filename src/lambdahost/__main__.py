from lambdahost.cli.main import main

main(prog_name="lambdahost")

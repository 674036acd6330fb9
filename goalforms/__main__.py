from goalforms.pipeline.cli import main

main()

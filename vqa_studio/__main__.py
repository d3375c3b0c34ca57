from vqa_studio.cli import main

raise SystemExit(main())

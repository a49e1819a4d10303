from signlink.cli import main

raise SystemExit(main())

from trayassist.cli import main

raise SystemExit(main())

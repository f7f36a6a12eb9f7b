"""`python -m ppm_offline …`"""

from __future__ import annotations

from ppm_offline.cli import main

raise SystemExit(main())

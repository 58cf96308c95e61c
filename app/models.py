"""Every model module, imported once so that the metadata knows every table.

Migrations, `create_all` in tests and relationship strings all rely on this.
"""

from app.audit import models as audit  # noqa: F401
from app.auth import models as auth  # noqa: F401
from app.calendar import models as calendar  # noqa: F401
from app.ceremonies import models as ceremonies  # noqa: F401
from app.contacts import models as contacts  # noqa: F401
from app.invitations import models as invitations  # noqa: F401
from app.mail import models as mail  # noqa: F401
from app.settings import models as settings  # noqa: F401
from app.wreaths import models as wreaths  # noqa: F401

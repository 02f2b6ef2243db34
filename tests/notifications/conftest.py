# Awards need rules: earning's fixtures, here too.
from tests.earning.conftest import make_rule, verify_clean  # noqa: F401

# Awards need rules and orders need items: earning's and the mall's fixtures, here too.
from tests.earning.conftest import make_rule, verify_clean  # noqa: F401
from tests.mall.conftest import buyer, category, make_item, mall_admin  # noqa: F401

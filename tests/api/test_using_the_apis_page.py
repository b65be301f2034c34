import html
import re
from urllib.parse import urlparse

from alibabacloud_ram20150501.client import Client  # noqa: F401 - the snippet imports it too

from accounts.services.ram_users import NewRamUser, create_ram_users
from tests.conftest import signed_in


def test_the_page_shows_a_snippet_that_works_against_this_portal(
    transactional_db, live_server, owner, owner_key, settings
):
    settings.PORTAL_BASE_URL = live_server.url
    create_ram_users(actor=owner.actor, new_users=[NewRamUser(name="alice", display_name="Alice")])
    key_id, secret = owner_key
    page = signed_in(owner).get("/using-the-apis/").content.decode()
    assert urlparse(live_server.url).netloc in page and key_id in page
    assert secret not in page
    snippet = html.unescape(re.search(r"<pre[^>]*><code>(.*?)</code></pre>", page, re.S).group(1))
    snippet = snippet.replace("pip install alibabacloud-ram20150501", "").replace("<your AccessKey secret>", secret)
    printed = []
    exec(snippet, {"print": lambda *args: printed.append(args)})
    assert printed == [("alice", "Alice")]

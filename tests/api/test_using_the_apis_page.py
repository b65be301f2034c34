import html
import json
import re
from urllib.parse import urlparse

from accounts.actors import operator_actor
from accounts.services.ram_users import NewRamUser, create_ram_users
from projects.services import create_project
from tests.conftest import signed_in


def snippets(page: str, secret: str) -> list[str]:
    """The page's code blocks, ready to run: the install line dropped, the secret (never on the page) filled in."""
    blocks = [html.unescape(block) for block in re.findall(r"<pre[^>]*><code>(.*?)</code></pre>", page, re.S)]
    return [
        "\n".join(line for line in block.splitlines() if not line.startswith("pip install")).replace(
            "<your AccessKey secret>", secret
        )
        for block in blocks
    ]


def run(snippet: str) -> list[tuple]:
    printed = []
    exec(snippet, {"print": lambda *args: printed.append(args)})  # the page's own example, run as shown
    return printed


def test_every_snippet_on_the_page_works_against_this_portal_and_only_it(
    transactional_db, live_server, owner, owner_key, settings
):
    settings.PORTAL_BASE_URL = live_server.url
    create_ram_users(actor=owner.actor, new_users=[NewRamUser(name="alice", display_name="Alice")])
    create_project(actor=operator_actor(owner.account), name="sales_dw")
    key_id, secret = owner_key
    page = signed_in(owner).get("/using-the-apis/").content.decode()
    assert urlparse(live_server.url).netloc in page and key_id in page and "sales_dw" in page
    assert secret not in page
    # No network leaves this machine in tests: a snippet aimed anywhere but the live server would fail here.
    new_sdk, sts, ims, legacy_sdk, pyodps = snippets(page, secret)

    assert run(new_sdk) == [("alice", "Alice")]
    account_id = owner.account.account_id
    assert run(sts) == [("Account", f"acs:ram::{account_id}:root")]
    assert run(ims) == [(f"{account_id}.onaliyun.com",), (f"alice@{account_id}.onaliyun.com",)]

    [(answer,)] = run(legacy_sdk)
    assert [user["UserName"] for user in json.loads(answer)["Users"]["User"]] == ["alice"]

    whoami, grants = run(pyodps)
    assert owner.account.principal in json.dumps(whoami[0])
    assert grants

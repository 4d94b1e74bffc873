"""A throw-away Dovecot IMAP server on loopback for the e-mail tests.

It writes its own configuration into a temporary folder (plain-text login,
no TLS, maildirs under the folder, one test user per name asked for) and
runs the system's ``dovecot`` binary with it, so nothing outside the folder
is touched.  ``.ci/run`` installs the ``dovecot-imapd`` package; without it
the tests that need IMAP skip (or fail under ``CI=true``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DovecotServer:
    root: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    users: dict[str, str] = field(default_factory=dict)
    # where Dovecot checks XOAUTH2 / OAUTHBEARER tokens (an RFC 7662 introspection endpoint); None: passwords only
    oauth2_introspection_url: str | None = None

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    def add_user(self, name: str, password: str) -> None:
        self.users[name] = password
        (self.root / "users").write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()))

    def start(self) -> None:
        owner = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        # Dovecot's auth and mail processes run as other users: they must be able to walk into the folder.
        self.root.chmod(0o755)
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for sub in ("mail", "home"):
                os.chown(self.root / sub, owner.pw_uid, owner.pw_gid)
        if not self.users:
            self.add_user("seller", "seller-password")
        self.config.write_text(f"""
protocols = imap
listen = {self.host}
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.oauth2_introspection_url else ""}
first_valid_uid = 0
mail_location = maildir:{self.root}/mail/%u
mail_uid = {owner.pw_uid}
mail_gid = {owner.pw_gid}
{self._oauth2_passdb()}passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 200
}}
""")
        # The daemon keeps inherited pipes open, so its start-up errors go to a file, not a pipe.
        with (self.root / "start.err").open("wb") as err:
            started = subprocess.run(
                [DOVECOT, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=err, check=False
            )
        if started.returncode != 0:
            raise RuntimeError(f"dovecot refused to start: {(self.root / 'start.err').read_text()}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start; see {self.root / 'dovecot.log'}")

    def _oauth2_passdb(self) -> str:
        if not self.oauth2_introspection_url:
            return ""
        settings = self.root / "oauth2.conf.ext"
        settings.write_text(
            f"introspection_mode = post\n"
            f"introspection_url = {self.oauth2_introspection_url}\n"
            "force_introspection = yes\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
        )
        settings.chmod(0o644)
        return f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {settings}\n}}\n"

    def stop(self) -> None:
        subprocess.run(
            [DOVECOT, "-c", str(self.config), "stop"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )


def available() -> bool:
    return Path(DOVECOT).exists()

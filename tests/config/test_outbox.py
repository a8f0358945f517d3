"""The development outbox: mail the demo sends, listed at /dev/outbox/ (DEBUG only).

It shows reset and invitation links, so it answers only a signed-in person on this
computer, and the files behind it are readable by their owner only.
"""

import stat

import pytest
from django.core.mail import EmailMultiAlternatives
from django.test import Client

from config.mail import OutboxBackend


def send(subject, to="family@example.org"):
    message = EmailMultiAlternatives(subject, "Plain body", "t@example.org", [to])
    message.attach_alternative("<p>HTML body</p>", "text/html")
    OutboxBackend().send_messages([message])


def test_outbox_lists_sent_mail_newest_first(client, member, settings, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_OUTBOX_DIR = tmp_path
    send("First message")
    send("Second message")
    client.force_login(member("admin").user)

    response = client.get("/dev/outbox/")

    assert response.status_code == 200
    subjects = [m.subject for m in response.context["messages_list"]]
    assert subjects == ["Second message", "First message"]
    assert response.context["current"].text.strip() == "Plain body"


def test_empty_outbox_says_how_mail_gets_there(client, member, settings, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_OUTBOX_DIR = tmp_path / "none"
    client.force_login(member("viewer").user)

    response = client.get("/dev/outbox/")

    assert response.status_code == 200
    assert b"No mail yet" in response.content


def test_outbox_does_not_exist_without_debug(client, db, settings, tmp_path):
    settings.DEBUG = False
    settings.EMAIL_OUTBOX_DIR = tmp_path
    send("Secret")

    response = client.get("/dev/outbox/")

    assert response.status_code == 404
    assert b"Secret" not in response.content


def test_outbox_asks_a_visitor_who_is_not_signed_in_to_sign_in(client, db, settings, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_OUTBOX_DIR = tmp_path
    send("Reset your password: http://testserver/accounts/password/reset/key/secret/")

    response = client.get("/dev/outbox/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dev/outbox/")
    assert b"reset" not in response.content


@pytest.mark.parametrize(
    "headers",
    [
        {"REMOTE_ADDR": "192.0.2.10"},
        # A client's own claim about where it is does not count.
        {"REMOTE_ADDR": "192.0.2.10", "HTTP_X_FORWARDED_FOR": "127.0.0.1"},
        {"REMOTE_ADDR": "::ffff:192.0.2.10"},
    ],
)
def test_outbox_answers_no_one_on_another_computer(member, settings, tmp_path, headers):
    settings.DEBUG = True
    settings.EMAIL_OUTBOX_DIR = tmp_path
    send("Your invitation link")
    client = Client(**headers)
    client.force_login(member("admin").user)

    response = client.get("/dev/outbox/")

    assert response.status_code == 404
    assert b"Your invitation link" not in response.content


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.0.1", "::1", "::ffff:127.0.0.1"])
def test_outbox_answers_a_signed_in_person_on_this_computer(member, settings, tmp_path, address):
    settings.DEBUG = True
    settings.EMAIL_OUTBOX_DIR = tmp_path
    send("Your invitation link")
    client = Client(REMOTE_ADDR=address)
    client.force_login(member("viewer").user)

    response = client.get("/dev/outbox/")

    assert response.status_code == 200
    assert b"Your invitation link" in response.content
    assert b"Development only: shown to signed-in people on this computer" in response.content


def test_outbox_files_are_readable_by_their_owner_only(settings, tmp_path):
    outbox = tmp_path / "outbox"
    outbox.mkdir(mode=0o755)
    outbox.chmod(0o755)  # as an older version left it
    settings.EMAIL_OUTBOX_DIR = outbox

    send("Reset your password")

    (message,) = outbox.glob("*.eml")
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    assert stat.S_IMODE(message.stat().st_mode) == 0o600

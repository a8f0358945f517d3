"""The development outbox: mail the demo sends, listed at /dev/outbox/ (DEBUG only)."""

from django.core.mail import EmailMultiAlternatives

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


def test_empty_outbox_says_how_mail_gets_there(client, db, settings, tmp_path):
    settings.DEBUG = True
    settings.EMAIL_OUTBOX_DIR = tmp_path / "none"

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

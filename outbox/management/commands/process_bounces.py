import logging
import mailbox
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from outbox.bounces import bounce_parse, bounce_record, message_from_bytes

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Read bounce reports (delivery status notifications) and mark the emails they name "
        "as bounced. Give files of one message each, '-' for one message on standard input "
        "(a mail server's pipe), or --maildir."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="Message files, or - for standard input")
        parser.add_argument("--maildir", help="A Maildir folder holding the reports")
        parser.add_argument(
            "--remove", action="store_true", help="Delete each message from --maildir once read"
        )

    def handle(self, *args, files, maildir, remove, **options):
        if not files and not maildir:
            raise CommandError("Give message files, - for standard input, or --maildir")
        counts = {"messages": 0, "bounced": 0, "unknown": 0, "unreadable": 0}
        for name in files:
            if name == "-":
                raw = sys.stdin.buffer.read()
            else:
                path = Path(name)
                if not path.is_file():
                    raise CommandError(f"No such file: {name}")
                raw = path.read_bytes()
            self._one(raw, counts)
        if maildir:
            if not Path(maildir, "cur").is_dir():
                raise CommandError(f"Not a Maildir folder: {maildir}")
            box = mailbox.Maildir(maildir, factory=None, create=False)
            for key in list(box.keys()):
                self._one(box.get_bytes(key), counts)
                if remove:
                    box.remove(key)
        self.stdout.write(
            f"{counts['messages']} messages read: {counts['bounced']} emails marked bounced, "
            f"{counts['unknown']} reports about no email of this survey, "
            f"{counts['unreadable']} unreadable"
        )

    def _one(self, raw: bytes, counts: dict[str, int]) -> None:
        counts["messages"] += 1
        try:
            bounces = bounce_parse(message_from_bytes(raw))
        except Exception as error:  # one malformed message must not stop the others
            logger.warning("bounce report not read: %s", type(error).__name__)
            counts["unreadable"] += 1
            return
        for bounce in bounces:
            if bounce_record(bounce) is None:
                counts["unknown"] += 1
            else:
                counts["bounced"] += 1

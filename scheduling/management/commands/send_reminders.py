from clinic.management.commands.queue_messages import Command as QueueMessages


class Command(QueueMessages):
    help = "The former name of `queue_messages`, kept for existing cron lines: " + QueueMessages.help

"""Where the stack is, for the commands that talk to it: flags, then ACUITY_SYNC_* / AWS_* variables, then a
deployed stack's outputs (--stack), then a running `acuity-sync dev` (.acuity-sync/dev.json)."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

from acuity_sync.domain.names import ALL_LEDGERS, LedgerName
from acuity_sync.ledgers.registry import ledger_declaration
from acuity_sync.store.kms import SecretBox
from acuity_sync_toolkit.cli.errors import CommandError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient

DEV_STATE = Path(".acuity-sync") / "dev.json"


def add_stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", default=os.environ.get("ACUITY_SYNC_STACK"), help="a deployed stack's name")
    parser.add_argument("--table", default=os.environ.get("ACUITY_SYNC_TABLE"))
    parser.add_argument("--kms-key-id", default=os.environ.get("ACUITY_SYNC_KMS_KEY_ID"))
    parser.add_argument("--webhook-base-url", default=os.environ.get("ACUITY_SYNC_WEBHOOK_BASE_URL"))
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    parser.add_argument("--dev-state", type=Path, default=DEV_STATE)


@dataclass(frozen=True, slots=True)
class StackLocation:
    table: str
    kms_key_id: str
    webhook_base_url: str
    endpoint_url: str | None
    region: str | None
    # Known from a deployed stack's outputs or a running `acuity-sync dev`; empty when given by flags alone.
    pages_url: str = ""  # the connect function's pages (…/connect)
    signing_secret_name: str = ""  # the key that signs admin links
    queue_urls: dict[LedgerName, str] = field(default_factory=dict)  # for re-queueing parked events
    dev_acuity_url: str = ""  # the running `acuity-sync dev`'s fake Acuity
    # The ledgers' dead-letter queues, known as the queues are (replay, explain, status).
    dead_letter_queue_urls: dict[LedgerName, str] = field(default_factory=dict)

    def dynamodb(self) -> DynamoDBClient:
        return boto3.client("dynamodb", endpoint_url=self.endpoint_url, region_name=self.region)

    def secrets_manager(self) -> SecretsManagerClient:
        return boto3.client("secretsmanager", endpoint_url=self.endpoint_url, region_name=self.region)

    def sqs(self) -> SQSClient:
        return boto3.client("sqs", endpoint_url=self.endpoint_url, region_name=self.region)

    def queue_url(self, ledger: LedgerName, *, dead_letters: bool = False) -> str:
        urls = self.dead_letter_queue_urls if dead_letters else self.queue_urls
        url = urls.get(ledger)
        if url is None:
            raise CommandError(
                f"the {ledger} queue of this stack is not known: pass --stack NAME (a deployed stack's outputs name "
                "it), or run against `acuity-sync dev`"
            )
        return url

    def secret_box(self) -> SecretBox:
        """The stack's KMS key, for the secrets in the table."""
        kms = boto3.client("kms", endpoint_url=self.endpoint_url, region_name=self.region)
        return SecretBox(kms, self.kms_key_id)


def locate_stack(arguments: argparse.Namespace) -> StackLocation:
    table, key, base = arguments.table, arguments.kms_key_id, arguments.webhook_base_url
    endpoint, region = arguments.endpoint_url, arguments.region
    pages = signing = dev_acuity = ""
    queues: dict[LedgerName, str] = {}
    dead_letters: dict[LedgerName, str] = {}
    if arguments.stack and not (table and key and base):
        cloudformation = boto3.client("cloudformation", endpoint_url=endpoint, region_name=region)
        stacks = cloudformation.describe_stacks(StackName=arguments.stack)["Stacks"]
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
        table, key, base = (
            table or outputs.get("TableName"),
            key or outputs.get("KmsKeyArn"),
            base or outputs.get("WebhookBaseUrl"),
        )
        pages, signing = outputs.get("ConnectUrl", ""), outputs.get("ConnectSigningSecretName", "")
        queues = {
            ledger: outputs[f"{ledger_declaration(ledger).display_name}QueueUrl"]
            for ledger in ALL_LEDGERS
            if f"{ledger_declaration(ledger).display_name}QueueUrl" in outputs
        }
        dead_letters = {
            ledger: outputs[f"{ledger_declaration(ledger).display_name}DeadLetterQueueUrl"]
            for ledger in ALL_LEDGERS
            if f"{ledger_declaration(ledger).display_name}DeadLetterQueueUrl" in outputs
        }
    elif not (table and key and base) and arguments.dev_state.exists():
        dev = json.loads(arguments.dev_state.read_text(encoding="utf-8"))
        table, key, base = table or dev["table_name"], key or dev["kms_key_arn"], base or dev["webhook_base_url"]
        endpoint, region = endpoint or dev["aws_endpoint_url"], region or dev["region"]
        pages, signing = dev.get("pages_url", ""), dev.get("signing_secret_name", "")
        queues = {LedgerName(name): url for name, url in dev.get("queue_urls", {}).items()}
        dev_acuity = dev.get("acuity_url", "")
        dead_letters = {LedgerName(name): url for name, url in dev.get("dead_letter_queue_urls", {}).items()}
        for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
            os.environ.setdefault(name, value)
    if not (table and key and base):
        raise CommandError(
            "cannot tell which stack to use: pass --stack NAME (a deployed stack), or --table, --kms-key-id and "
            "--webhook-base-url, or start `acuity-sync dev` first"
        )
    return StackLocation(table, key, base, endpoint, region, pages, signing, queues, dev_acuity, dead_letters)

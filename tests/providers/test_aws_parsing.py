"""The fast response parser gives what botocore's own gives, at the same instants, in UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore.parsers import ResponseParserError, ResponseParserFactory

from dbsnooze.domain import AuthMethod, Credentials
from dbsnooze.providers.aws import parsing
from dbsnooze.providers.aws.session import make_session

START = 1_794_405_600  # 2026-11-11T14:00:00Z
BODY = {
    "MetricDataResults": [
        {
            "Id": f"q{i}",
            "Label": "CPUUtilization Average",
            "Timestamps": [START + 3600 * h for h in range(5)] + [START + 0.5],
            "Values": [1.5, 2, None, 3.25, 0.0, 7.5],
            "StatusCode": "Complete",
        }
        for i in range(3)
    ],
    "Messages": [{"Code": "c", "Value": "v"}],
}


def _parse(parser: Any) -> dict[str, Any]:
    model = botocore.session.get_session().get_service_model("cloudwatch")
    shape = model.operation_model("GetMetricData").output_shape
    answer = {"body": json.dumps(BODY).encode(), "headers": {}, "status_code": 200}
    parsed: dict[str, Any] = parser.parse(answer, shape)
    return parsed


def test_the_fast_parser_answers_what_botocore_answers() -> None:
    stock = _parse(ResponseParserFactory().create_parser("json"))
    factory = parsing._ParserFactory()
    factory.set_parser_defaults(timestamp_parser=parsing.utc_timestamp)

    fast = _parse(factory.create_parser("json"))

    assert fast == stock  # aware datetimes compare as instants, whatever their zone
    times = fast["MetricDataResults"][0]["Timestamps"]
    assert times[0] == datetime(2026, 11, 11, 14, tzinfo=UTC)
    assert all(moment.tzinfo is UTC for moment in times)
    assert fast["MetricDataResults"][1]["Values"] == [1.5, 2, None, 3.25, 0.0, 7.5]


def test_text_timestamps_still_take_botocores_path() -> None:
    assert parsing.utc_timestamp("2026-11-11T14:00:00Z") == datetime(2026, 11, 11, 14, tzinfo=UTC)
    assert parsing.utc_timestamp(START) == datetime(2026, 11, 11, 14, tzinfo=UTC)


def test_sessions_made_for_accounts_use_the_fast_parser() -> None:
    session = make_session(
        Credentials(AuthMethod.STATIC_KEYS, access_key_id="AKIA0001", secret_access_key="s")
    )

    factory = session._session.get_component("response_parser_factory")

    assert isinstance(factory, parsing._ParserFactory)


def test_another_services_answer_is_a_parser_error_not_a_key_error() -> None:
    """An emulator that cannot place a request answers as S3 would: 200 and other XML."""
    shape = (
        botocore.session.get_session()
        .get_service_model("sts")
        .operation_model("GetCallerIdentity")
        .output_shape
    )
    body = b'<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets/>'
    answer = {"body": body + b"</ListAllMyBucketsResult>", "headers": {}, "status_code": 200}

    with pytest.raises(ResponseParserError, match="unexpected answer"):
        parsing._ParserFactory().create_parser("query").parse(answer, shape)

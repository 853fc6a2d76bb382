"""A loopback fake of the AWS Price List query API, serving recorded GetProducts answers.

moto has no `pricing` service. This answers botocore's JSON 1.1 requests
(`X-Amz-Target: AWSPriceListService.GetProducts`) with product documents of the documented
shape (`PriceList` holds JSON strings), filtered by the request's TERM_MATCH filters and paged
by `MaxResults` / `NextToken`. A status can be set to answer every request with an error.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from loopback import LoopbackServer

TARGET = "AWSPriceListService.GetProducts"


def product(
    region: str,
    instance_class: str,
    engine: str,
    usd: str,
    deployment: str = "Single-AZ",
    edition: str | None = None,
    licence: str = "No license required",
) -> dict[str, Any]:
    """One product document as GetProducts returns it (abridged to the fields that matter,
    plus a Reserved term that must be ignored)."""
    sku = f"SKU{abs(hash((region, instance_class, engine, deployment, edition))) % 10**8:08d}"
    attributes = {
        "servicecode": "AmazonRDS",
        "regionCode": region,
        "instanceType": instance_class,
        "databaseEngine": engine,
        "deploymentOption": deployment,
        "licenseModel": licence,
        "usagetype": f"InstanceUsage:{instance_class}",
        "location": "somewhere",
    }
    if edition:
        attributes["databaseEdition"] = edition
    hourly = {
        "unit": "Hrs",
        "endRange": "Inf",
        "beginRange": "0",
        "description": f"${usd} per RDS {instance_class} instance hour (or partial hour)",
        "appliesTo": [],
        "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
        "pricePerUnit": {"USD": usd},
    }
    upfront = {**hourly, "unit": "Quantity", "pricePerUnit": {"USD": "1000"}}
    return {
        "product": {"productFamily": "Database Instance", "attributes": attributes, "sku": sku},
        "serviceCode": "AmazonRDS",
        "terms": {
            "OnDemand": {
                f"{sku}.JRTCKXETXF": {
                    "priceDimensions": {hourly["rateCode"]: hourly},
                    "sku": sku,
                    "effectiveDate": "2024-06-01T00:00:00Z",
                    "offerTermCode": "JRTCKXETXF",
                    "termAttributes": {},
                }
            },
            "Reserved": {
                f"{sku}.HU7G6KETJZ": {
                    "priceDimensions": {f"{sku}.HU7G6KETJZ.2TG2D8R56U": upfront},
                    "sku": sku,
                    "termAttributes": {"LeaseContractLength": "1yr"},
                }
            },
        },
        "version": "20240601000000",
        "publicationDate": "2024-06-01T00:00:00Z",
    }


class PricingFake(LoopbackServer):
    def __init__(self, products: list[dict[str, Any]]) -> None:
        self.products = products
        self.requests: list[dict[str, Any]] = []
        self.fail_with: int | None = None  # e.g. 400 AccessDeniedException
        super().__init__(self._handler())

    def answer(self, target: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.requests.append(body)
        if self.fail_with is not None:
            return self.fail_with, {
                "__type": "AccessDeniedException",
                "Message": "User is not authorized to perform: pricing:GetProducts",
            }
        if target != TARGET or body.get("ServiceCode") != "AmazonRDS":
            return 400, {"__type": "InvalidParameterException", "Message": "bad request"}
        wanted = {f["Field"]: f["Value"] for f in body.get("Filters", [])}
        matches = [p for p in self.products if _matches(p, wanted)]
        start = int(body.get("NextToken") or 0)
        size = int(body.get("MaxResults") or 100)
        page = matches[start : start + size]
        answer: dict[str, Any] = {
            "FormatVersion": "aws_v1",
            "PriceList": [json.dumps(p) for p in page],
        }
        if start + size < len(matches):
            answer["NextToken"] = str(start + size)
        return 200, answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, answer = fake.answer(self.headers.get("X-Amz-Target", ""), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


def _matches(document: dict[str, Any], wanted: dict[str, str]) -> bool:
    attributes = {**document["product"]["attributes"], **document["product"]}
    return all(attributes.get(field) == value for field, value in wanted.items())

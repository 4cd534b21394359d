"""The DNS emulator on the shared core: ZoneStore as the backend, the zone operations as control routes.

    PUT    /_emulator/dns/zones/<zone>           create (SOA, NS, glue); kept as is if it exists
    DELETE /_emulator/dns/zones/<zone>           404 if missing
    PUT    /_emulator/dns/zones/<zone>/rrsets    {"name", "type", "ttl", "values"}; empty values = delete
    GET    /_emulator/dns/zones[/<zone>]         zone names / one zone with every rrset
    GET    /_emulator/dns/address                {"host": "127.0.0.1", "port": D} of the DNS server
"""

from __future__ import annotations

from urllib.parse import unquote

from emulators.core.api import ApiEmulator, Route
from emulators.core.http import ControlError, EmulatorError, Request, Response, json_response
from emulators.dns import urls
from emulators.dns.exceptions import InvalidRecord, NoSuchZone
from emulators.dns.server import DnsServer
from emulators.dns.zones import ZoneStore


class DnsApi(ApiEmulator):
    name = "dns"

    def __init__(self, store: ZoneStore, dns_server: DnsServer | None = None):
        super().__init__()
        self.backend = store
        self.dns_server = dns_server

    def routes(self) -> list[Route]:
        return []

    def control_routes(self) -> list[Route]:
        return [Route(method, pattern, getattr(self, handler)) for method, pattern, handler in urls.CONTROL_PATHS]

    def render_error(self, error: EmulatorError, request: Request) -> Response:
        return json_response(error.status, {"error": error.message, "code": error.code})

    # --- control routes ---

    def control_address(self, request, match) -> dict:
        if self.dns_server is None:
            raise ControlError(404, "no DNS server runs with this control API")
        host, port = self.dns_server.address
        return {"host": host, "port": port}

    def control_list_zones(self, request, match) -> dict:
        return {"zones": self.backend.zones()}

    def control_put_zone(self, request, match) -> dict:
        return self._zone_call(self.backend.put_zone, match)

    def control_get_zone(self, request, match) -> dict:
        return self._zone_call(self.backend.get_zone, match)

    def control_delete_zone(self, request, match) -> dict:
        self._zone_call(self.backend.delete_zone, match)
        return {"deleted": unquote(match["zone"])}

    def control_put_rrset(self, request, match) -> dict:
        body = request.json()
        missing = [key for key in ("name", "type", "values") if key not in body]
        if missing:
            raise ControlError(400, f"missing {', '.join(missing)}")
        zone = self._zone_call(self.backend.put_rrset, match, body["name"], body["type"], body.get("ttl", 300),
                               body["values"])
        return zone.describe()

    def _zone_call(self, operation, match, *args):
        try:
            return operation(unquote(match["zone"]), *args)
        except NoSuchZone as error:
            raise ControlError(404, str(error)) from None
        except InvalidRecord as error:
            raise ControlError(400, str(error)) from None

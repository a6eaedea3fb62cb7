"""Every partner client, built once per process from settings and closed together."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from crossdock.config import Settings
from crossdock.partners.amazon import AmazonOrdersClient
from crossdock.partners.carrier import CarrierClient
from crossdock.partners.customs import CustomsClient
from crossdock.partners.ebay import EbayFulfillmentClient
from crossdock.partners.mail import MailClient
from crossdock.partners.payments import PaymentsClient
from crossdock.partners.suppliers import SuppliersClient
from crossdock.partners.warehouse import WarehouseClient


@dataclass(frozen=True)
class PartnerClients:
    payments: PaymentsClient
    carrier: CarrierClient
    customs: CustomsClient
    amazon: AmazonOrdersClient
    ebay: EbayFulfillmentClient
    storefront: httpx.AsyncClient
    mail: MailClient
    warehouse: WarehouseClient
    suppliers: SuppliersClient

    @classmethod
    def from_settings(cls, settings: Settings) -> PartnerClients:
        timeout = settings.partner_timeout_seconds
        return cls(
            payments=PaymentsClient(
                settings.payments_base_url, settings.payments_api_key, timeout=timeout
            ),
            carrier=CarrierClient(
                settings.carrier_base_url,
                settings.carrier_api_key,
                timeout=timeout,
                insure_labels=settings.carrier_insure_labels,
            ),
            customs=CustomsClient(settings.customs_base_url, timeout=timeout),
            amazon=AmazonOrdersClient(
                settings.amazon_base_url,
                settings.amazon_access_token,
                settings.amazon_marketplace_id,
                timeout=timeout,
                restricted_data=settings.amazon_restricted_data,
            ),
            ebay=EbayFulfillmentClient(
                settings.ebay_base_url, settings.ebay_access_token, timeout=timeout
            ),
            storefront=httpx.AsyncClient(base_url=settings.storefront_base_url, timeout=timeout),
            mail=MailClient(
                settings.mail_base_url,
                settings.mail_api_key,
                timeout=timeout,
                sender=settings.mail_sender,
            ),
            warehouse=WarehouseClient(settings.warehouse_base_url, timeout=timeout),
            suppliers=SuppliersClient(settings.suppliers_base_url, timeout=timeout),
        )

    async def aclose(self) -> None:
        for client in (
            self.payments,
            self.carrier,
            self.customs,
            self.amazon,
            self.ebay,
            self.mail,
            self.warehouse,
            self.suppliers,
        ):
            await client.aclose()
        await self.storefront.aclose()

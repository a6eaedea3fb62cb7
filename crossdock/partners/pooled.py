"""The partner APIs that ride on another client's connection pool: the eBay and Amazon
APIs beyond orders, and Stripe's disputes. Built once per worker over `PartnerClients`,
so each partner keeps one pool and one place that knows how its APIs are configured."""

from __future__ import annotations

from dataclasses import dataclass

from crossdock.config import Settings
from crossdock.partners.amazon_claims import AmazonClaimsClient
from crossdock.partners.amazon_feeds import AmazonFeedsClient
from crossdock.partners.amazon_messaging import AmazonMessagingClient
from crossdock.partners.amazon_reports import AmazonReportsClient
from crossdock.partners.clients import PartnerClients
from crossdock.partners.ebay_cases import EbayCasesClient
from crossdock.partners.ebay_messages import EbayMessagesClient
from crossdock.partners.ebay_payment_disputes import EbayPaymentDisputesClient
from crossdock.partners.ebay_returns import EbayRefundsClient, EbayReturnRequestsClient
from crossdock.partners.stripe_disputes import StripeDisputesClient


@dataclass(frozen=True)
class PooledApis:
    stripe_disputes: StripeDisputesClient
    ebay_disputes: EbayPaymentDisputesClient
    ebay_cases: EbayCasesClient
    ebay_refunds: EbayRefundsClient
    ebay_return_requests: EbayReturnRequestsClient
    amazon_claims: AmazonClaimsClient
    amazon_feeds: AmazonFeedsClient
    amazon_reports: AmazonReportsClient
    amazon_messaging: AmazonMessagingClient
    ebay_messages: EbayMessagesClient

    @classmethod
    def over(cls, partners: PartnerClients, settings: Settings) -> PooledApis:
        """Every pooled API on the pool of the client of the same partner. Closing
        `partners` closes their pools: these own none."""
        ebay, amazon = partners.ebay.http, partners.amazon.http
        ebay_url, ebay_token = settings.ebay_base_url, settings.ebay_access_token
        amazon_url, amazon_token = settings.amazon_base_url, settings.amazon_access_token
        market = settings.amazon_marketplace_id
        return cls(
            stripe_disputes=StripeDisputesClient(
                settings.payments_base_url,
                settings.payments_api_key,
                partners.payments.http,
                files_base_url=settings.payments_files_base_url,
            ),
            ebay_disputes=EbayPaymentDisputesClient(
                settings.ebay_payment_disputes_base_url or ebay_url,
                ebay_token,
                settings.ship_from,
                ebay,
            ),
            ebay_cases=EbayCasesClient(ebay_url, ebay_token, ebay),
            ebay_refunds=EbayRefundsClient(ebay_url, ebay_token, ebay),
            ebay_return_requests=EbayReturnRequestsClient(ebay_url, ebay_token, ebay),
            amazon_claims=AmazonClaimsClient(amazon_url, amazon_token, amazon),
            # Amazon refunds are payment adjustment feeds; return requests come from the
            # returns report.
            amazon_feeds=AmazonFeedsClient(amazon_url, amazon_token, market, amazon),
            amazon_reports=AmazonReportsClient(amazon_url, amazon_token, market, amazon),
            amazon_messaging=AmazonMessagingClient(amazon_url, amazon_token, market, amazon),
            ebay_messages=EbayMessagesClient(ebay_url, ebay_token, ebay),
        )

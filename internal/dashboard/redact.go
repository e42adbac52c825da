package dashboard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Redacted replaces every value the dashboard does not show.
const Redacted = "[redacted]"

// shownKeys are the JSON keys whose values the dashboard shows, normalised by keyName. It is
// an allow-list on purpose: a field added to a payload later (a new piece of customer data)
// is hidden until someone decides it is safe to show. A key not listed hides its whole
// value, objects and arrays included; a listed key whose value is an object or an array is
// shown with the same rule applied inside it. What is here lets an operator tell which
// shop, order, purchase order, SKUs, quantities, amounts and states a task is about;
// names, addresses, emails, phones, notes, tags, line properties (engravings), customer ids,
// discount codes and tracking numbers are not.
var shownKeys = setOf(
	// Task structure: the containers that lead to the fields below.
	"event", "sale", "refund", "refunds", "lines", "items", "shippinglines", "taxlines",
	"discounts", "discountallocations", "payload", "order", "ref", "shipments",
	// Identities of shops, orders, purchase orders and parcels.
	"shop", "id", "orderid", "poid", "shipmentid", "refundid", "lineid", "productid",
	"variantid", "externalid", "supplier", "fulfillmentid", "webhookid", "round", "cancel",
	// What happened and when.
	"topic", "source", "test", "state", "status", "financialstatus", "fulfillmentstatus",
	"cancelreason", "receivedat", "createdat", "updatedat", "cancelledat", "closedat",
	"shippedat", "carrier",
	// The order's name ("#1001") and what was bought.
	"name", "sku", "title", "varianttitle", "vendor", "quantity", "currentquantity",
	"fulfillablequantity", "taxable", "requiresshipping", "giftcard", "restocktype",
	// Money.
	"currency", "presentmentcurrency", "taxesincluded", "price", "totaldiscount",
	"subtotalprice", "totaldiscounts", "totalshipping", "totaltax", "totalprice",
	"currenttotalprice", "presentmenttotal", "discountedprice", "amount", "shipping",
	"subtotal", "tax", "rate", "value", "valuetype", "type", "allocationmethod",
	"targetselection", "targettype", "applicationindex", "unitcost",
)

func setOf(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// keyName normalises a JSON key so that "order_id", "orderId" and "OrderID" are one key.
func keyName(k string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(k))
}

// Redact returns a task payload or result as the dashboard shows it: its JSON structure
// with the values of allowed keys (shownKeys) and every other value replaced by Redacted.
// Something that is not JSON shows only its size.
func Redact(b []byte) string {
	if len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return fmt.Sprintf("[%d bytes, not JSON: not shown]", len(b))
	}
	switch v.(type) {
	case map[string]any, []any:
		v = redactValue(v)
	case string:
		// A bare string has no key to say what it is.
		v = Redacted
	}
	out, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("[%d bytes: not shown]", len(b))
	}
	return string(out)
}

// redactValue applies the allow-list inside a value that sits under an allowed key.
func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, kv := range t {
			switch {
			case shownKeys[keyName(k)]:
				t[k] = redactValue(kv)
			case kv == nil:
				// null says nothing about anyone.
			default:
				t[k] = Redacted
			}
		}
		return t
	case []any:
		for i := range t {
			t[i] = redactValue(t[i])
		}
		return t
	}
	return v
}

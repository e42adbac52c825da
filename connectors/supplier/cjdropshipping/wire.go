package cjdropshipping

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// The wire types spell out the parts of CJ's API 2.0 objects dropsync sends and reads, apart
// from the domain's JSON tags: CJ's API must not move when the domain does.

// payBalance is createOrderV2's payType 2: pay from the CJ balance at once, so the order
// ships without anyone visiting CJ's dashboard.
const payBalance = 2

// Field lengths createOrderV2 documents.
const (
	maxOrderNumber = 50
	maxName        = 50
	maxAddress     = 200
	maxCity        = 50
	maxProvince    = 50
	maxCountry     = 50
	maxZip         = 20
	maxPhone       = 20
	maxEmail       = 50
	maxRemark      = 500
)

type wirePlaceOrder struct {
	OrderNumber          string             `json:"orderNumber"`
	ShippingZip          string             `json:"shippingZip,omitempty"`
	ShippingCountryCode  string             `json:"shippingCountryCode"`
	ShippingCountry      string             `json:"shippingCountry"`
	ShippingProvince     string             `json:"shippingProvince"`
	ShippingCity         string             `json:"shippingCity"`
	ShippingPhone        string             `json:"shippingPhone,omitempty"`
	ShippingCustomerName string             `json:"shippingCustomerName"`
	ShippingAddress      string             `json:"shippingAddress"`
	ShippingAddress2     string             `json:"shippingAddress2,omitempty"`
	Email                string             `json:"email,omitempty"`
	Remark               string             `json:"remark,omitempty"`
	PayType              int                `json:"payType"`
	LogisticName         string             `json:"logisticName"`
	FromCountryCode      string             `json:"fromCountryCode"`
	Products             []wirePlaceProduct `json:"products"`
}

type wirePlaceProduct struct {
	VID      string `json:"vid,omitempty"`
	SKU      string `json:"sku,omitempty"`
	Quantity int    `json:"quantity"`
}

type wireCreated struct {
	OrderNumber string     `json:"orderNumber"`
	OrderID     flexString `json:"orderId"`
	OrderStatus string     `json:"orderStatus"`
}

// wireOrder is getOrderDetail's data, and what an ORDER webhook message says.
type wireOrder struct {
	OrderID          flexString `json:"orderId"`
	OrderNum         string     `json:"orderNum"`
	CJOrderID        flexString `json:"cjOrderId"`
	OrderStatus      string     `json:"orderStatus"`
	LogisticName     string     `json:"logisticName"`
	TrackNumber      string     `json:"trackNumber"`
	TrackingURL      string     `json:"trackingUrl"`
	CreateDate       string     `json:"createDate"`
	PaymentDate      string     `json:"paymentDate"`
	OutWarehouseTime string     `json:"outWarehouseTime"`
}

type wireVariant struct {
	VID        string           `json:"vid"`
	VariantSKU string           `json:"variantSku"`
	SellPrice  *decimal.Decimal `json:"variantSellPrice"`
}

type wireProduct struct {
	Variants []wireVariant `json:"variants"`
}

type wireStock struct {
	VID               string `json:"vid"`
	CountryCode       string `json:"countryCode"`
	StorageNum        int    `json:"storageNum"`
	TotalInventoryNum *int   `json:"totalInventoryNum"`
}

// total is the warehouse's stock: totalInventoryNum, or the older storageNum.
func (w wireStock) total() int {
	if w.TotalInventoryNum != nil {
		return *w.TotalInventoryNum
	}
	return w.StorageNum
}

// flexString is an id CJ sends as a string or as a number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

// parseTime reads CJ's times: RFC 3339 with an offset, or "2006-01-02 15:04:05" in UTC.
func parseTime(v string) time.Time {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse(time.DateTime, v); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// statuses maps CJ's order statuses onto dropsync's purchase order statuses; a status missing
// here reports no status, which moves nothing.
var statuses = map[string]dropsync.POState{
	"CREATED":   dropsync.POAccepted,
	"IN_CART":   dropsync.POAccepted,
	"UNPAID":    dropsync.POAccepted,
	"UNSHIPPED": dropsync.POInProduction,
	"SHIPPED":   dropsync.POShipped,
	"DELIVERED": dropsync.POShipped,
	"CANCELLED": dropsync.POCancelled,
	"CANCELED":  dropsync.POCancelled,
}

// domain turns the CJ order into dropsync's. CJ ships an order as one parcel, identified by
// its tracking number; a parcel that lists no items holds everything.
func (o wireOrder) domain(externalID func(string) string, now func() time.Time) dropsync.SupplierOrder {
	id := string(o.OrderID)
	if id == "" {
		id = string(o.CJOrderID)
	}
	out := dropsync.SupplierOrder{ID: id, ExternalID: externalID(o.OrderNum), Status: string(statuses[strings.ToUpper(o.OrderStatus)])}
	if o.TrackNumber != "" {
		at := parseTime(o.OutWarehouseTime)
		if at.IsZero() {
			at = now().UTC().Truncate(time.Second)
		}
		out.Shipments = []dropsync.Shipment{{ID: o.TrackNumber, Carrier: o.LogisticName, TrackingNumber: o.TrackNumber,
			TrackingURL: o.TrackingURL, ShippedAt: at}}
	}
	return out
}

// orderNumber is CJ's order number for a purchase order: its id, or when that is longer
// than CJ keeps, the id without ".myshopify.com".
func (s *Supplier) orderNumber(externalID string) (string, error) {
	if len(externalID) <= maxOrderNumber {
		return externalID, nil
	}
	short := strings.Replace(externalID, ".myshopify.com-", "-", 1)
	if short != externalID && len(short) <= maxOrderNumber {
		return short, nil
	}
	return "", dropsync.Errorf(dropsync.EINVALID, "purchase order id %q is longer than the %d characters of a CJ order number", externalID, maxOrderNumber)
}

// externalID is the purchase order id of a CJ order number: the number, or for a shortened
// one, the number with ".myshopify.com" put back after the shop.
func (s *Supplier) externalID(num string) string {
	suffix := "-" + s.cfg.ID
	if strings.Contains(num, ".myshopify.com-") || !strings.HasSuffix(num, suffix) {
		return num
	}
	rest := strings.TrimSuffix(num, suffix)
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return num
	}
	full := rest[:i] + ".myshopify.com" + rest[i:] + suffix
	if len(full) <= maxOrderNumber {
		return num // an id this short was never shortened
	}
	return full
}

// skuRef is a supplier_sku: a CJ variant id, or "sku:" and a CJ variant SKU.
type skuRef struct{ vid, sku string }

func parseSKU(s string) skuRef {
	s = strings.TrimSpace(s)
	if v, ok := strings.CutPrefix(s, "sku:"); ok {
		return skuRef{sku: strings.TrimSpace(v)}
	}
	return skuRef{vid: s}
}

func (s *Supplier) placeBody(req dropsync.SupplierOrderRequest, num string) (wirePlaceOrder, error) {
	a := req.ShippingAddress
	province := firstOf(a.Province, a.ProvinceCode, a.City) // CJ requires one; many countries have none
	country := firstOf(a.Country, strings.ToUpper(a.CountryCode))
	address2 := a.Address2
	if a.Company != "" {
		// CJ has no company field; the label shows it on the second address line.
		address2 = strings.TrimSpace(a.Company + ", " + a.Address2)
		address2 = strings.TrimSuffix(address2, ",")
	}
	body := wirePlaceOrder{
		OrderNumber:          num,
		ShippingZip:          strings.TrimSpace(a.Zip),
		ShippingCountryCode:  strings.ToUpper(strings.TrimSpace(a.CountryCode)),
		ShippingCountry:      country,
		ShippingProvince:     province,
		ShippingCity:         strings.TrimSpace(a.City),
		ShippingPhone:        phone(a.Phone),
		ShippingCustomerName: strings.TrimSpace(a.FullName()),
		ShippingAddress:      strings.TrimSpace(a.Address1),
		ShippingAddress2:     strings.TrimSpace(address2),
		Remark:               remark(req),
		PayType:              payBalance,
		LogisticName:         s.cfg.LogisticName,
		FromCountryCode:      s.cfg.FromCountry,
	}
	if utf8.RuneCountInString(req.Email) <= maxEmail {
		body.Email = req.Email
	}
	for _, f := range []struct {
		name, value string
		max         int
	}{
		{"name", body.ShippingCustomerName, maxName},
		{"address1", body.ShippingAddress, maxAddress},
		{"address2", body.ShippingAddress2, maxAddress},
		{"city", body.ShippingCity, maxCity},
		{"province", body.ShippingProvince, maxProvince},
		{"country", body.ShippingCountry, maxCountry},
		{"zip", body.ShippingZip, maxZip},
		{"country_code", body.ShippingCountryCode, 2},
	} {
		n := utf8.RuneCountInString(f.value)
		switch {
		case n == 0 && f.name != "address2" && f.name != "zip":
			return wirePlaceOrder{}, dropsync.Rejection(dropsync.ReasonInvalidAddress, "", "shipping address has no "+f.name)
		case n > f.max:
			return wirePlaceOrder{}, dropsync.Rejection(dropsync.ReasonInvalidAddress, "", "shipping address "+f.name+" is longer than CJ takes")
		}
	}
	for i, it := range req.Items {
		ref := parseSKU(it.SKU)
		switch {
		case ref.vid == "" && ref.sku == "":
			return wirePlaceOrder{}, dropsync.Rejection(dropsync.ReasonUnknownSKU, it.SKU, "item has no CJ variant")
		case it.Quantity <= 0:
			return wirePlaceOrder{}, dropsync.Errorf(dropsync.EINVALID, "item %d has no quantity", i)
		}
		body.Products = append(body.Products, wirePlaceProduct{VID: ref.vid, SKU: ref.sku, Quantity: it.Quantity})
	}
	return body, nil
}

// personalData is the customer data CJ's messages must not carry into an error: the purchase
// order's, and the forms only the request to CJ has (the phone compacted to fit, the company
// joined to the second address line), which is what CJ quotes back.
func personalData(req dropsync.SupplierOrderRequest, body wirePlaceOrder) []string {
	return supplierapi.PersonalData(req, body.ShippingPhone, body.ShippingAddress2)
}

// remark is the order's one free-text field: the storefront order name, the note and the
// line item properties (personalisation) CJ's agents must act on.
func remark(req dropsync.SupplierOrderRequest) string {
	var lines []string
	if req.OrderName != "" {
		lines = append(lines, "Order "+req.OrderName)
	}
	if n := strings.TrimSpace(req.Note); n != "" {
		lines = append(lines, n)
	}
	for _, it := range req.Items {
		for _, p := range it.Properties {
			if strings.HasPrefix(p.Name, "_") {
				continue // storefront-internal properties are not for the supplier
			}
			lines = append(lines, it.SKU+" "+p.Name+": "+p.Value)
		}
	}
	r := strings.Join(lines, "\n")
	if utf8.RuneCountInString(r) > maxRemark {
		r = string([]rune(r)[:maxRemark-1]) + "…"
	}
	return r
}

// phone fits the recipient's phone into CJ's 20 characters: as written when it fits, else
// without separators, else left out rather than cut.
func phone(p string) string {
	p = strings.TrimSpace(p)
	if utf8.RuneCountInString(p) <= maxPhone {
		return p
	}
	compact := strings.Map(func(r rune) rune {
		if r == '+' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, p)
	if len(compact) <= maxPhone {
		return compact
	}
	return ""
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

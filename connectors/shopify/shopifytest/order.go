package shopifytest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// Amount is a money amount as Shopify's REST API writes it: a JSON string with
// two decimal places ("19.90"). decimal.Decimal alone would write "19.9", which
// parses the same but is not what Shopify sends; golden files and webhook
// bodies must match the real thing byte for byte where they can.
type Amount struct{ decimal.Decimal }

// MarshalJSON writes the amount as a quoted decimal string with two places.
func (a Amount) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(a.StringFixed(2))), nil
}

// UnmarshalJSON accepts a quoted or bare decimal, as decimal.Decimal does.
func (a *Amount) UnmarshalJSON(b []byte) error {
	return a.Decimal.UnmarshalJSON(b)
}

// Rate is a tax rate as Shopify writes it: a bare JSON number (0.06), not a
// string, unlike money amounts.
type Rate struct{ decimal.Decimal }

// MarshalJSON writes the rate as a bare JSON number.
func (r Rate) MarshalJSON() ([]byte, error) {
	return []byte(r.String()), nil
}

// UnmarshalJSON accepts a bare or quoted decimal.
func (r *Rate) UnmarshalJSON(b []byte) error {
	return r.Decimal.UnmarshalJSON(b)
}

// Order is a Shopify REST order as the Admin API and webhooks deliver it. Field
// names and JSON shapes follow Shopify's: ids are numbers, money is a decimal
// string, absent optional values are null and empty lists are [].
type Order struct {
	ID                    int64                 `json:"id"`
	AdminGraphQLAPIID     string                `json:"admin_graphql_api_id"`
	Name                  string                `json:"name"`
	Number                int                   `json:"number"`
	OrderNumber           int                   `json:"order_number"`
	Email                 string                `json:"email"`
	ContactEmail          string                `json:"contact_email"`
	Phone                 string                `json:"phone"`
	Currency              string                `json:"currency"`
	PresentmentCurrency   string                `json:"presentment_currency"`
	FinancialStatus       string                `json:"financial_status"`
	FulfillmentStatus     *string               `json:"fulfillment_status"`
	Confirmed             bool                  `json:"confirmed"`
	Test                  bool                  `json:"test"`
	TaxesIncluded         bool                  `json:"taxes_included"`
	TotalLineItemsPrice   Amount                `json:"total_line_items_price"`
	TotalDiscounts        Amount                `json:"total_discounts"`
	SubtotalPrice         Amount                `json:"subtotal_price"`
	TotalTax              Amount                `json:"total_tax"`
	TotalPrice            Amount                `json:"total_price"`
	CurrentSubtotalPrice  Amount                `json:"current_subtotal_price"`
	CurrentTotalDiscounts Amount                `json:"current_total_discounts"`
	CurrentTotalTax       Amount                `json:"current_total_tax"`
	CurrentTotalPrice     Amount                `json:"current_total_price"`
	TotalOutstanding      Amount                `json:"total_outstanding"`
	TotalWeight           int                   `json:"total_weight"`
	Tags                  string                `json:"tags"`
	Note                  string                `json:"note"`
	NoteAttributes        []Property            `json:"note_attributes"`
	SourceName            string                `json:"source_name"`
	CustomerLocale        string                `json:"customer_locale"`
	BuyerAcceptsMarketing bool                  `json:"buyer_accepts_marketing"`
	PaymentGatewayNames   []string              `json:"payment_gateway_names"`
	DiscountCodes         []DiscountCode        `json:"discount_codes"`
	DiscountApplications  []DiscountApplication `json:"discount_applications"`
	Customer              *Customer             `json:"customer"`
	BillingAddress        *Address              `json:"billing_address"`
	ShippingAddress       *Address              `json:"shipping_address"`
	LineItems             []LineItem            `json:"line_items"`
	ShippingLines         []ShippingLine        `json:"shipping_lines"`
	TaxLines              []TaxLine             `json:"tax_lines"`
	Fulfillments          []Fulfillment         `json:"fulfillments"`
	CreatedAt             time.Time             `json:"created_at"`
	UpdatedAt             time.Time             `json:"updated_at"`
	ProcessedAt           time.Time             `json:"processed_at"`
	CancelledAt           *time.Time            `json:"cancelled_at"`
	CancelReason          *string               `json:"cancel_reason"`
	ClosedAt              *time.Time            `json:"closed_at"`
}

// Customer is the customer object embedded in an order.
type Customer struct {
	ID                int64     `json:"id"`
	AdminGraphQLAPIID string    `json:"admin_graphql_api_id"`
	Email             string    `json:"email"`
	FirstName         string    `json:"first_name"`
	LastName          string    `json:"last_name"`
	Phone             string    `json:"phone"`
	State             string    `json:"state"`
	VerifiedEmail     bool      `json:"verified_email"`
	Currency          string    `json:"currency"`
	Tags              string    `json:"tags"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// Address is an order's billing or shipping address.
type Address struct {
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Name         string `json:"name"`
	Company      string `json:"company"`
	Address1     string `json:"address1"`
	Address2     string `json:"address2"`
	City         string `json:"city"`
	Province     string `json:"province"`
	ProvinceCode string `json:"province_code"`
	Zip          string `json:"zip"`
	Country      string `json:"country"`
	CountryCode  string `json:"country_code"`
	Phone        string `json:"phone"`
}

// LineItem is one line of an order. FulfillableQuantity and
// FulfillmentStatus are kept up to date by the fake as fulfillments are made.
type LineItem struct {
	ID                  int64                `json:"id"`
	AdminGraphQLAPIID   string               `json:"admin_graphql_api_id"`
	VariantID           int64                `json:"variant_id"`
	ProductID           int64                `json:"product_id"`
	SKU                 string               `json:"sku"`
	Title               string               `json:"title"`
	VariantTitle        string               `json:"variant_title"`
	Name                string               `json:"name"`
	Vendor              string               `json:"vendor"`
	Quantity            int                  `json:"quantity"`
	CurrentQuantity     int                  `json:"current_quantity"`
	Price               Amount               `json:"price"`
	TotalDiscount       Amount               `json:"total_discount"`
	Grams               int                  `json:"grams"`
	Taxable             bool                 `json:"taxable"`
	RequiresShipping    bool                 `json:"requires_shipping"`
	GiftCard            bool                 `json:"gift_card"`
	ProductExists       bool                 `json:"product_exists"`
	FulfillmentService  string               `json:"fulfillment_service"`
	FulfillableQuantity int                  `json:"fulfillable_quantity"`
	FulfillmentStatus   *string              `json:"fulfillment_status"`
	Properties          []Property           `json:"properties"`
	TaxLines            []TaxLine            `json:"tax_lines"`
	DiscountAllocations []DiscountAllocation `json:"discount_allocations"`
}

// Property is a name/value pair: a line item property (personalisation such
// as an engraving) or an order note attribute.
type Property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TaxLine is one tax charged on a line, a shipping line or the whole order.
type TaxLine struct {
	Title string `json:"title"`
	Price Amount `json:"price"`
	Rate  Rate   `json:"rate"`
}

// DiscountAllocation is the part of a discount application allocated to a line.
type DiscountAllocation struct {
	Amount                   Amount `json:"amount"`
	DiscountApplicationIndex int    `json:"discount_application_index"`
}

// DiscountApplication is a discount applied to the order; lines point to it
// by index from their discount allocations.
type DiscountApplication struct {
	Type             string `json:"type"`
	Code             string `json:"code"`
	Title            string `json:"title"`
	Description      string `json:"description"`
	Value            string `json:"value"`
	ValueType        string `json:"value_type"`
	AllocationMethod string `json:"allocation_method"`
	TargetSelection  string `json:"target_selection"`
	TargetType       string `json:"target_type"`
}

// DiscountCode is a discount code the customer entered.
type DiscountCode struct {
	Code   string `json:"code"`
	Amount Amount `json:"amount"`
	Type   string `json:"type"`
}

// ShippingLine is a shipping method charged on the order.
type ShippingLine struct {
	ID                  int64                `json:"id"`
	Title               string               `json:"title"`
	Code                string               `json:"code"`
	Source              string               `json:"source"`
	Price               Amount               `json:"price"`
	DiscountedPrice     Amount               `json:"discounted_price"`
	TaxLines            []TaxLine            `json:"tax_lines"`
	DiscountAllocations []DiscountAllocation `json:"discount_allocations"`
}

// Fulfillment is a shipment recorded on an order, with its tracking.
type Fulfillment struct {
	ID                int64      `json:"id"`
	AdminGraphQLAPIID string     `json:"admin_graphql_api_id"`
	OrderID           int64      `json:"order_id"`
	Name              string     `json:"name"`
	Status            string     `json:"status"`
	Service           string     `json:"service"`
	LocationID        int64      `json:"location_id"`
	ShipmentStatus    *string    `json:"shipment_status"`
	TrackingCompany   string     `json:"tracking_company"`
	TrackingNumber    string     `json:"tracking_number"`
	TrackingNumbers   []string   `json:"tracking_numbers"`
	TrackingURL       string     `json:"tracking_url"`
	TrackingURLs      []string   `json:"tracking_urls"`
	LineItems         []LineItem `json:"line_items"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`

	// NotifyCustomer is what the last create or update_tracking request
	// asked for. Shopify does not echo it, so it stays off the wire; tests
	// read it to check that the merchant's setting was honoured.
	NotifyCustomer bool `json:"-"`
}

// moneySet is Shopify's *_set shape: the amount in shop and presentment
// currency. The fake has one currency per order, so both are the same.
type moneySet struct {
	ShopMoney        money `json:"shop_money"`
	PresentmentMoney money `json:"presentment_money"`
}

type money struct {
	Amount       Amount `json:"amount"`
	CurrencyCode string `json:"currency_code"`
}

func newMoneySet(a Amount, currency string) moneySet {
	m := money{Amount: a, CurrencyCode: currency}
	return moneySet{ShopMoney: m, PresentmentMoney: m}
}

// orderFields is Order without its methods, so MarshalJSON can embed it
// without recursing.
type orderFields Order

// MarshalJSON writes the order as Shopify does: the *_set amounts are derived
// from the plain ones (so a test that edits a total cannot leave them stale)
// and nil lists are written as [] rather than null.
func (o Order) MarshalJSON() ([]byte, error) {
	c := o.clone()
	c.normalize()
	cur := c.Currency
	wire := struct {
		orderFields
		TotalPriceSet          moneySet `json:"total_price_set"`
		SubtotalPriceSet       moneySet `json:"subtotal_price_set"`
		TotalTaxSet            moneySet `json:"total_tax_set"`
		TotalDiscountsSet      moneySet `json:"total_discounts_set"`
		TotalLineItemsPriceSet moneySet `json:"total_line_items_price_set"`
		TotalShippingPriceSet  moneySet `json:"total_shipping_price_set"`
		CurrentTotalPriceSet   moneySet `json:"current_total_price_set"`
	}{
		orderFields:            orderFields(c),
		TotalPriceSet:          newMoneySet(c.TotalPrice, cur),
		SubtotalPriceSet:       newMoneySet(c.SubtotalPrice, cur),
		TotalTaxSet:            newMoneySet(c.TotalTax, cur),
		TotalDiscountsSet:      newMoneySet(c.TotalDiscounts, cur),
		TotalLineItemsPriceSet: newMoneySet(c.TotalLineItemsPrice, cur),
		TotalShippingPriceSet:  newMoneySet(c.shippingTotal(), cur),
		CurrentTotalPriceSet:   newMoneySet(c.CurrentTotalPrice, cur),
	}
	b, err := json.Marshal(wire)
	if err != nil {
		return nil, fmt.Errorf("marshal order %d: %w", o.ID, err)
	}
	return b, nil
}

// UnmarshalJSON reads an order; the derived *_set amounts are ignored.
func (o *Order) UnmarshalJSON(b []byte) error {
	var f orderFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*o = Order(f)
	return nil
}

func (o Order) shippingTotal() Amount {
	sum := decimal.Zero
	for _, sl := range o.ShippingLines {
		sum = sum.Add(sl.Price.Decimal)
	}
	return Amount{sum}
}

// clone returns a deep copy so that what the fake hands out cannot alias what
// it stores (tests run the fake concurrently with the code under test).
func (o Order) clone() Order {
	c := o
	c.FulfillmentStatus = cloneptr(o.FulfillmentStatus)
	c.CancelledAt = cloneptr(o.CancelledAt)
	c.CancelReason = cloneptr(o.CancelReason)
	c.ClosedAt = cloneptr(o.ClosedAt)
	c.Customer = cloneptr(o.Customer)
	c.BillingAddress = cloneptr(o.BillingAddress)
	c.ShippingAddress = cloneptr(o.ShippingAddress)
	c.NoteAttributes = clone(o.NoteAttributes)
	c.PaymentGatewayNames = clone(o.PaymentGatewayNames)
	c.DiscountCodes = clone(o.DiscountCodes)
	c.DiscountApplications = clone(o.DiscountApplications)
	c.TaxLines = clone(o.TaxLines)
	c.LineItems = cloneLineItems(o.LineItems)
	if o.ShippingLines != nil {
		c.ShippingLines = make([]ShippingLine, len(o.ShippingLines))
		for i, sl := range o.ShippingLines {
			sl.TaxLines = clone(sl.TaxLines)
			sl.DiscountAllocations = clone(sl.DiscountAllocations)
			c.ShippingLines[i] = sl
		}
	}
	if o.Fulfillments != nil {
		c.Fulfillments = make([]Fulfillment, len(o.Fulfillments))
		for i, f := range o.Fulfillments {
			c.Fulfillments[i] = f.clone()
		}
	}
	return c
}

func (f Fulfillment) clone() Fulfillment {
	c := f
	c.ShipmentStatus = cloneptr(f.ShipmentStatus)
	c.TrackingNumbers = clone(f.TrackingNumbers)
	c.TrackingURLs = clone(f.TrackingURLs)
	c.LineItems = cloneLineItems(f.LineItems)
	return c
}

func cloneLineItems(in []LineItem) []LineItem {
	if in == nil {
		return nil
	}
	out := make([]LineItem, len(in))
	for i, li := range in {
		li.FulfillmentStatus = cloneptr(li.FulfillmentStatus)
		li.Properties = clone(li.Properties)
		li.TaxLines = clone(li.TaxLines)
		li.DiscountAllocations = clone(li.DiscountAllocations)
		out[i] = li
	}
	return out
}

// normalize replaces nil lists with empty ones, because Shopify writes [] and
// a consumer may tell the two apart. It works on a clone.
func (o *Order) normalize() {
	o.NoteAttributes = nonNil(o.NoteAttributes)
	o.PaymentGatewayNames = nonNil(o.PaymentGatewayNames)
	o.DiscountCodes = nonNil(o.DiscountCodes)
	o.DiscountApplications = nonNil(o.DiscountApplications)
	o.TaxLines = nonNil(o.TaxLines)
	o.LineItems = nonNil(o.LineItems)
	o.ShippingLines = nonNil(o.ShippingLines)
	o.Fulfillments = nonNil(o.Fulfillments)
	normalizeLineItems(o.LineItems)
	for i := range o.ShippingLines {
		o.ShippingLines[i].TaxLines = nonNil(o.ShippingLines[i].TaxLines)
		o.ShippingLines[i].DiscountAllocations = nonNil(o.ShippingLines[i].DiscountAllocations)
	}
	for i := range o.Fulfillments {
		o.Fulfillments[i].normalize()
	}
}

func (f *Fulfillment) normalize() {
	f.TrackingNumbers = nonNil(f.TrackingNumbers)
	f.TrackingURLs = nonNil(f.TrackingURLs)
	f.LineItems = nonNil(f.LineItems)
	normalizeLineItems(f.LineItems)
}

func normalizeLineItems(items []LineItem) {
	for i := range items {
		items[i].Properties = nonNil(items[i].Properties)
		items[i].TaxLines = nonNil(items[i].TaxLines)
		items[i].DiscountAllocations = nonNil(items[i].DiscountAllocations)
	}
}

// fulfillmentFields is Fulfillment without its methods.
type fulfillmentFields Fulfillment

// MarshalJSON writes nil lists as [], as Shopify does.
func (f Fulfillment) MarshalJSON() ([]byte, error) {
	c := f.clone()
	c.normalize()
	return json.Marshal(fulfillmentFields(c))
}

func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}

func cloneptr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

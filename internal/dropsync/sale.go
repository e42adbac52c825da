package dropsync

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Sale is an order as the storefront reports it: who bought what, where it goes and what was
// paid. dropsync never edits a Sale; a newer storefront version replaces it whole. It holds
// customer data (names, addresses, email, phone): never log it.
type Sale struct {
	Shop                string          `json:"shop"`
	ID                  int64           `json:"id"`
	Name                string          `json:"name"`
	CreatedAt           time.Time       `json:"created_at"`
	UpdatedAt           time.Time       `json:"updated_at"`
	CancelledAt         *time.Time      `json:"cancelled_at,omitempty"`
	CancelReason        string          `json:"cancel_reason,omitempty"`
	ClosedAt            *time.Time      `json:"closed_at,omitempty"`
	Test                bool            `json:"test,omitempty"`
	FinancialStatus     string          `json:"financial_status"`
	FulfillmentStatus   string          `json:"fulfillment_status,omitempty"`
	Currency            string          `json:"currency"`
	PresentmentCurrency string          `json:"presentment_currency,omitempty"`
	TaxesIncluded       bool            `json:"taxes_included"`
	CustomerID          int64           `json:"customer_id,omitempty"`
	Email               string          `json:"email,omitempty"`
	Phone               string          `json:"phone,omitempty"`
	Locale              string          `json:"locale,omitempty"`
	ShippingAddress     *Address        `json:"shipping_address,omitempty"`
	BillingAddress      *Address        `json:"billing_address,omitempty"`
	Note                string          `json:"note,omitempty"`
	Tags                string          `json:"tags,omitempty"`
	Lines               []Line          `json:"lines"`
	ShippingLines       []ShippingLine  `json:"shipping_lines,omitempty"`
	TaxLines            []TaxLine       `json:"tax_lines,omitempty"`
	Discounts           []Discount      `json:"discounts,omitempty"`
	Refunds             []Refund        `json:"refunds,omitempty"`
	SubtotalPrice       decimal.Decimal `json:"subtotal_price"`
	TotalDiscounts      decimal.Decimal `json:"total_discounts"`
	TotalShipping       decimal.Decimal `json:"total_shipping"`
	TotalTax            decimal.Decimal `json:"total_tax"`
	TotalPrice          decimal.Decimal `json:"total_price"`
	CurrentTotalPrice   decimal.Decimal `json:"current_total_price"`
	// PresentmentTotal is total_price in the presentment currency when it differs.
	PresentmentTotal *decimal.Decimal `json:"presentment_total,omitempty"`
}

// Address is a postal address with its recipient. Customer data: never log it.
type Address struct {
	FirstName    string `json:"first_name,omitempty"`
	LastName     string `json:"last_name,omitempty"`
	Name         string `json:"name,omitempty"`
	Company      string `json:"company,omitempty"`
	Address1     string `json:"address1,omitempty"`
	Address2     string `json:"address2,omitempty"`
	City         string `json:"city,omitempty"`
	Province     string `json:"province,omitempty"`
	ProvinceCode string `json:"province_code,omitempty"`
	Zip          string `json:"zip,omitempty"`
	Country      string `json:"country,omitempty"`
	CountryCode  string `json:"country_code,omitempty"`
	Phone        string `json:"phone,omitempty"`
}

// FullName is the recipient's name as it should appear on a label.
func (a Address) FullName() string {
	if a.Name != "" {
		return a.Name
	}
	return strings.TrimSpace(a.FirstName + " " + a.LastName)
}

// Line is one storefront order line.
type Line struct {
	ID                  int64                `json:"id"`
	ProductID           int64                `json:"product_id,omitempty"`
	VariantID           int64                `json:"variant_id,omitempty"`
	SKU                 string               `json:"sku,omitempty"`
	Title               string               `json:"title"`
	VariantTitle        string               `json:"variant_title,omitempty"`
	Vendor              string               `json:"vendor,omitempty"`
	Quantity            int                  `json:"quantity"`
	CurrentQuantity     int                  `json:"current_quantity"`
	FulfillableQuantity int                  `json:"fulfillable_quantity"`
	Price               decimal.Decimal      `json:"price"`
	TotalDiscount       decimal.Decimal      `json:"total_discount"`
	DiscountAllocations []DiscountAllocation `json:"discount_allocations,omitempty"`
	TaxLines            []TaxLine            `json:"tax_lines,omitempty"`
	Taxable             bool                 `json:"taxable"`
	RequiresShipping    bool                 `json:"requires_shipping"`
	GiftCard            bool                 `json:"gift_card,omitempty"`
	Properties          []Property           `json:"properties,omitempty"`
}

// MappingSKU is the key the merchant's mappings use for this line: its SKU, or
// "variant:<id>" for a variant without one.
func (l Line) MappingSKU() string {
	if s := strings.TrimSpace(l.SKU); s != "" {
		return s
	}
	return "variant:" + strconv.FormatInt(l.VariantID, 10)
}

// Discount is everything discounted off the line: the sum of its discount allocations when
// it has any, else its total_discount. Allocations are what current storefront API versions
// report (total_discount is deprecated and may lag behind or disagree); older orders carry
// only total_discount. Invoices and margins both use this one rule, so an invoice never shows
// a discount the margin check did not count.
func (l Line) Discount() decimal.Decimal {
	if len(l.DiscountAllocations) == 0 {
		return l.TotalDiscount
	}
	var d decimal.Decimal
	for _, a := range l.DiscountAllocations {
		d = d.Add(a.Amount)
	}
	return d
}

// Discounted is the line's revenue after its discount (Discount), for its ordered quantity.
func (l Line) Discounted() decimal.Decimal {
	return l.Price.Mul(decimal.NewFromInt(int64(l.Quantity))).Sub(l.Discount())
}

// Property is a storefront line item property (personalisation such as an engraving).
type Property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TaxLine is one tax charged on a line, on shipping or on the order.
type TaxLine struct {
	Title string          `json:"title"`
	Rate  decimal.Decimal `json:"rate"`
	Price decimal.Decimal `json:"price"`
}

// DiscountAllocation is the part of one discount application charged against a line or a
// shipping line.
type DiscountAllocation struct {
	Amount           decimal.Decimal `json:"amount"`
	ApplicationIndex int             `json:"application_index"`
}

// Discount is one discount application of the order (a code, an automatic or a manual
// discount), in the order Shopify lists them (allocations refer to it by index).
type Discount struct {
	Type             string          `json:"type"`
	Code             string          `json:"code,omitempty"`
	Title            string          `json:"title,omitempty"`
	Description      string          `json:"description,omitempty"`
	Value            decimal.Decimal `json:"value"`
	ValueType        string          `json:"value_type"`
	AllocationMethod string          `json:"allocation_method,omitempty"`
	TargetSelection  string          `json:"target_selection,omitempty"`
	TargetType       string          `json:"target_type,omitempty"`
}

// ShippingLine is one shipping charge of the order.
type ShippingLine struct {
	ID                  int64                `json:"id,omitempty"`
	Title               string               `json:"title"`
	Code                string               `json:"code,omitempty"`
	Price               decimal.Decimal      `json:"price"`
	DiscountedPrice     decimal.Decimal      `json:"discounted_price"`
	DiscountAllocations []DiscountAllocation `json:"discount_allocations,omitempty"`
	TaxLines            []TaxLine            `json:"tax_lines,omitempty"`
}

// Refund is money given back on the order (a refunds/create event or a refund listed on the
// order).
type Refund struct {
	ID        int64           `json:"id"`
	CreatedAt time.Time       `json:"created_at"`
	Note      string          `json:"note,omitempty"`
	Lines     []RefundLine    `json:"lines,omitempty"`
	Shipping  decimal.Decimal `json:"shipping"`
	// Amount is the total money returned to the buyer by this refund's transactions.
	Amount decimal.Decimal `json:"amount"`
}

// RefundLine is a quantity of one line given back, with its subtotal and tax.
type RefundLine struct {
	LineID   int64           `json:"line_id"`
	Quantity int             `json:"quantity"`
	Subtotal decimal.Decimal `json:"subtotal"`
	Tax      decimal.Decimal `json:"tax"`
	Restock  string          `json:"restock_type,omitempty"`
}

// Paid reports whether the storefront says the buyer's money is secured (paid, or
// authorized for later capture).
func (s Sale) Paid() bool {
	switch s.FinancialStatus {
	case "paid", "authorized", "partially_refunded", "refunded":
		return true
	}
	return false
}

// Line returns the line with the id.
func (s Sale) Line(id int64) (Line, bool) {
	for _, l := range s.Lines {
		if l.ID == id {
			return l, true
		}
	}
	return Line{}, false
}

// ShipTo returns the destination country code ("" when the sale has no shipping address).
func (s Sale) ShipTo() string {
	if s.ShippingAddress == nil {
		return ""
	}
	return strings.ToUpper(s.ShippingAddress.CountryCode)
}

// Validate checks what every stored sale must have.
func (s Sale) Validate() error {
	switch {
	case s.Shop == "":
		return Errorf(EINVALID, "order has no shop")
	case s.ID <= 0:
		return Errorf(EINVALID, "order id must be positive")
	case s.UpdatedAt.IsZero():
		return Errorf(EINVALID, "order %d has no updated_at", s.ID)
	case s.Currency == "":
		return Errorf(EINVALID, "order %d has no currency", s.ID)
	}
	for i, l := range s.Lines {
		if l.ID <= 0 {
			return Errorf(EINVALID, "order %d line %d has no id", s.ID, i)
		}
		if l.Quantity < 0 {
			return Errorf(EINVALID, "order %d line %d has a negative quantity", s.ID, l.ID)
		}
	}
	return nil
}

// Redacted is what erased personal data reads as.
const Redacted = "[redacted]"

// Redact erases the customer's personal data from the sale: contact details, names and
// street addresses (the destination country stays, it identifies no one), the order note
// and line personalisation. Amounts, SKUs and ids stay for the merchant's books.
func (s *Sale) Redact() {
	s.Email, s.Phone, s.Note, s.CustomerID = "", "", "", 0
	for _, a := range []*Address{s.ShippingAddress, s.BillingAddress} {
		if a != nil {
			*a = Address{Country: a.Country, CountryCode: a.CountryCode}
		}
	}
	for i := range s.Lines {
		for j := range s.Lines[i].Properties {
			s.Lines[i].Properties[j].Value = Redacted
		}
	}
	for i := range s.Refunds {
		s.Refunds[i].Note = ""
	}
}

package shopifytest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// sampleTime is the default created_at and updated_at of a SampleOrder, fixed
// so that fixtures and golden files are stable.
func sampleTime() time.Time { return time.Date(2026, time.January, 15, 10, 0, 0, 0, time.UTC) }

// LineSpec describes one line of a SampleOrder. SKU, VariantID, Quantity and
// Price are what matter to dropsync; the rest have sensible defaults.
type LineSpec struct {
	SKU       string
	VariantID int64
	Quantity  int
	Price     decimal.Decimal // unit price in the order's currency

	Title      string          // default "Product <SKU>"
	ProductID  int64           // default derived from VariantID
	Discount   decimal.Decimal // total discount allocated to the line (all units)
	Properties []Property      // line item properties (personalisation)
	NoShipping bool            // a line that needs no shipping (gift card, download)
}

// OrderOption changes how SampleOrder builds an order.
type OrderOption func(*sampleSpec)

type sampleSpec struct {
	lines           []LineSpec
	financialStatus string
	currency        string
	shipping        Address
	billing         *Address
	firstName       string
	lastName        string
	email           string
	phone           string
	taxTitle        string
	taxRate         decimal.Decimal
	taxesIncluded   bool
	shippingTitle   string
	shippingPrice   decimal.Decimal
	createdAt       time.Time
	updatedAt       time.Time
	number          int
	edits           []func(*Order)
}

// WithLines replaces the sample's default lines.
func WithLines(lines ...LineSpec) OrderOption {
	return func(s *sampleSpec) { s.lines = append([]LineSpec(nil), lines...) }
}

// WithFinancialStatus sets financial_status ("paid" by default; "pending",
// "authorized", "partially_paid", "refunded", "voided", ...).
func WithFinancialStatus(status string) OrderOption {
	return func(s *sampleSpec) { s.financialStatus = status }
}

// WithCurrency sets the order's currency (USD by default).
func WithCurrency(code string) OrderOption {
	return func(s *sampleSpec) { s.currency = code }
}

// WithShippingCountry moves the shipping address to a typical address in the
// given ISO country (US, CA, GB, DE, FR, PL, JP, AU are known; any other code
// keeps the street and uses the code as the country name).
func WithShippingCountry(code string) OrderOption {
	return func(s *sampleSpec) {
		code = strings.ToUpper(code)
		a, ok := countryAddress(code)
		if !ok {
			a = s.shipping
			a.Country, a.CountryCode, a.Province, a.ProvinceCode = code, code, "", ""
		}
		a.FirstName, a.LastName, a.Phone = s.shipping.FirstName, s.shipping.LastName, s.shipping.Phone
		a.Name = strings.TrimSpace(a.FirstName + " " + a.LastName)
		s.shipping = a
	}
}

// WithShippingAddress sets the shipping address as given. The billing address
// is a copy of the shipping address unless WithBillingAddress is used.
func WithShippingAddress(a Address) OrderOption {
	return func(s *sampleSpec) { s.shipping = a }
}

// WithBillingAddress sets the billing address (by default a copy of the
// shipping address).
func WithBillingAddress(a Address) OrderOption {
	return func(s *sampleSpec) { s.billing = &a }
}

// WithUnicodeCustomer gives the customer and both addresses non-ASCII names
// and a non-ASCII city (a German address), to catch encoding and signing bugs.
func WithUnicodeCustomer() OrderOption {
	return func(s *sampleSpec) {
		s.firstName, s.lastName = "Zoë", "Müller-Łukasiewicz"
		s.email = "zoe.mueller@example.com"
		s.phone = "+49 211 5550123"
		a, _ := countryAddress("DE")
		a.FirstName, a.LastName, a.Phone = s.firstName, s.lastName, s.phone
		a.Name = s.firstName + " " + s.lastName
		s.shipping = a
	}
}

// WithTaxes sets the tax rate applied to lines and shipping (0.06 by
// default; zero means no tax lines) and whether prices include it.
func WithTaxes(rate decimal.Decimal, included bool) OrderOption {
	return func(s *sampleSpec) { s.taxRate, s.taxesIncluded = rate, included }
}

// WithShipping sets the shipping line's title and price (by default
// "Standard Shipping" at 5.00; a zero price keeps a free shipping line).
func WithShipping(title string, price decimal.Decimal) OrderOption {
	return func(s *sampleSpec) { s.shippingTitle, s.shippingPrice = title, price }
}

// WithCreatedAt sets created_at and processed_at (and updated_at, unless
// WithUpdatedAt is also given).
func WithCreatedAt(t time.Time) OrderOption {
	return func(s *sampleSpec) { s.createdAt = t.UTC().Truncate(time.Second) }
}

// WithUpdatedAt sets updated_at.
func WithUpdatedAt(t time.Time) OrderOption {
	return func(s *sampleSpec) { s.updatedAt = t.UTC().Truncate(time.Second) }
}

// WithOrderNumber sets order_number and the name ("#<n>").
func WithOrderNumber(n int) OrderOption {
	return func(s *sampleSpec) { s.number = n }
}

// WithEdit runs f on the finished order. Totals are not recomputed: it is
// for fields no other option reaches (tags, note, a null address...).
func WithEdit(f func(*Order)) OrderOption {
	return func(s *sampleSpec) { s.edits = append(s.edits, f) }
}

// countryAddress is a typical street address in a country, without a name.
func countryAddress(code string) (Address, bool) {
	a, ok := map[string]Address{
		"US": {Address1: "1200 Bardstown Road", Address2: "Suite 4", City: "Louisville", Province: "Kentucky", ProvinceCode: "KY", Zip: "40204", Country: "United States", CountryCode: "US"},
		"CA": {Address1: "88 Queen Street West", City: "Toronto", Province: "Ontario", ProvinceCode: "ON", Zip: "M5H 2N2", Country: "Canada", CountryCode: "CA"},
		"GB": {Address1: "21 Deansgate", City: "Manchester", Province: "England", ProvinceCode: "ENG", Zip: "M3 4LQ", Country: "United Kingdom", CountryCode: "GB"},
		"DE": {Address1: "Königsallee 12", Address2: "3. OG", City: "Düsseldorf", Province: "Nordrhein-Westfalen", ProvinceCode: "NW", Zip: "40212", Country: "Germany", CountryCode: "DE"},
		"FR": {Address1: "14 rue de la Paix", City: "Paris", Zip: "75002", Country: "France", CountryCode: "FR"},
		"PL": {Address1: "ul. Piotrkowska 104", City: "Łódź", Zip: "90-004", Country: "Poland", CountryCode: "PL"},
		"JP": {Address1: "1-1 Marunouchi", City: "Chiyoda-ku", Province: "Tōkyō", ProvinceCode: "JP-13", Zip: "100-0005", Country: "Japan", CountryCode: "JP"},
		"AU": {Address1: "200 George Street", City: "Sydney", Province: "New South Wales", ProvinceCode: "NSW", Zip: "2000", Country: "Australia", CountryCode: "AU"},
	}[code]
	return a, ok
}

func defaultSpec(id int64) sampleSpec {
	s := sampleSpec{
		lines: []LineSpec{
			{
				SKU: "TEE-RED-M", VariantID: 44100001, Quantity: 2, Price: decimal.RequireFromString("19.99"),
				Title: "Classic Tee", Discount: decimal.RequireFromString("4.00"),
				Properties: []Property{{Name: "Engraving", Value: "Zoë"}},
			},
			{SKU: "MUG-WHITE-11", VariantID: 44100002, Quantity: 1, Price: decimal.RequireFromString("12.50"), Title: "Enamel Mug"},
		},
		financialStatus: "paid",
		currency:        "USD",
		firstName:       "Jordan",
		lastName:        "Baker",
		email:           "jordan.baker@example.com",
		phone:           "+1 502-555-0134",
		taxTitle:        "State Tax",
		taxRate:         decimal.RequireFromString("0.06"),
		shippingTitle:   "Standard Shipping",
		shippingPrice:   decimal.RequireFromString("5.00"),
		createdAt:       sampleTime(),
		number:          1000 + int(id%1_000_000),
	}
	a, _ := countryAddress("US")
	a.FirstName, a.LastName, a.Phone = s.firstName, s.lastName, s.phone
	a.Name = s.firstName + " " + s.lastName
	s.shipping = a
	return s
}

// SampleOrder builds a realistic paid order with the given id, in the shape
// Shopify's REST API returns: customer, billing and shipping address, two
// lines (one discounted and personalised), a taxed shipping line and
// totals that add up: total_price = Σ(price×quantity) − discounts + shipping
// (+ tax unless taxes are included), computed with decimals. It is created and
// updated at 2026-01-15T10:00:00Z unless told otherwise. Line item ids are
// id*100+1, id*100+2, ... so tests can name them; an order holds at most 99
// lines.
func SampleOrder(id int64, opts ...OrderOption) Order {
	s := defaultSpec(id)
	for _, opt := range opts {
		opt(&s)
	}
	if len(s.lines) > 99 {
		panic(fmt.Sprintf("shopifytest: SampleOrder %d has %d lines, at most 99", id, len(s.lines)))
	}
	if s.updatedAt.IsZero() {
		s.updatedAt = s.createdAt
	}
	round := func(d decimal.Decimal) decimal.Decimal { return d.Round(2) }
	// taxOf is the tax in an amount: added on top, or contained in it when
	// prices include tax.
	taxOf := func(base decimal.Decimal) decimal.Decimal {
		if s.taxesIncluded {
			return round(base.Mul(s.taxRate).Div(decimal.NewFromInt(1).Add(s.taxRate)))
		}
		return round(base.Mul(s.taxRate))
	}
	taxed := !s.taxRate.IsZero()
	taxLines := func(base decimal.Decimal) []TaxLine {
		if !taxed {
			return []TaxLine{}
		}
		return []TaxLine{{Title: s.taxTitle, Price: Amount{taxOf(base)}, Rate: Rate{s.taxRate}}}
	}

	o := Order{
		ID:                  id,
		AdminGraphQLAPIID:   "gid://shopify/Order/" + strconv.FormatInt(id, 10),
		Name:                "#" + strconv.Itoa(s.number),
		Number:              s.number - 1000,
		OrderNumber:         s.number,
		Email:               s.email,
		ContactEmail:        s.email,
		Phone:               s.phone,
		Currency:            s.currency,
		PresentmentCurrency: s.currency,
		FinancialStatus:     s.financialStatus,
		Confirmed:           true,
		TaxesIncluded:       s.taxesIncluded,
		SourceName:          "web",
		CustomerLocale:      "en",
		PaymentGatewayNames: []string{"shopify_payments"},
		CreatedAt:           s.createdAt,
		UpdatedAt:           s.updatedAt,
		ProcessedAt:         s.createdAt,
		Customer: &Customer{
			ID:                5_000_000_000 + id,
			AdminGraphQLAPIID: "gid://shopify/Customer/" + strconv.FormatInt(5_000_000_000+id, 10),
			Email:             s.email,
			FirstName:         s.firstName,
			LastName:          s.lastName,
			Phone:             s.phone,
			State:             "enabled",
			VerifiedEmail:     true,
			Currency:          s.currency,
			CreatedAt:         s.createdAt.Add(-24 * time.Hour),
			UpdatedAt:         s.createdAt,
		},
	}
	ship := s.shipping
	o.ShippingAddress = &ship
	bill := ship
	if s.billing != nil {
		bill = *s.billing
	}
	o.BillingAddress = &bill

	lineTotal, discounts, tax := decimal.Zero, decimal.Zero, decimal.Zero
	weight := 0
	for i, ls := range s.lines {
		lid := id*100 + int64(i) + 1
		title := ls.Title
		if title == "" {
			title = "Product " + ls.SKU
		}
		productID := ls.ProductID
		if productID == 0 && ls.VariantID != 0 {
			productID = 7_000_000_000 + ls.VariantID/10
		}
		gross := ls.Price.Mul(decimal.NewFromInt(int64(ls.Quantity)))
		base := gross.Sub(ls.Discount)
		li := LineItem{
			ID:                  lid,
			AdminGraphQLAPIID:   "gid://shopify/LineItem/" + strconv.FormatInt(lid, 10),
			VariantID:           ls.VariantID,
			ProductID:           productID,
			SKU:                 ls.SKU,
			Title:               title,
			VariantTitle:        "",
			Name:                title,
			Vendor:              "Demo Supply Co.",
			Quantity:            ls.Quantity,
			CurrentQuantity:     ls.Quantity,
			Price:               Amount{ls.Price},
			TotalDiscount:       Amount{decimal.Zero}, // deprecated by Shopify; discounts live in discount_allocations
			Grams:               200,
			Taxable:             taxed,
			RequiresShipping:    !ls.NoShipping,
			ProductExists:       true,
			FulfillmentService:  "manual",
			FulfillableQuantity: ls.Quantity,
			Properties:          clone(ls.Properties),
			TaxLines:            taxLines(base),
			DiscountAllocations: []DiscountAllocation{},
		}
		if ls.NoShipping {
			li.Grams = 0
		}
		if ls.Discount.IsPositive() {
			li.DiscountAllocations = []DiscountAllocation{{Amount: Amount{ls.Discount}, DiscountApplicationIndex: 0}}
		}
		if taxed {
			tax = tax.Add(li.TaxLines[0].Price.Decimal)
		}
		lineTotal = lineTotal.Add(gross)
		discounts = discounts.Add(ls.Discount)
		weight += li.Grams * ls.Quantity
		o.LineItems = append(o.LineItems, li)
	}
	if discounts.IsPositive() {
		o.DiscountApplications = []DiscountApplication{{
			Type: "discount_code", Code: "WELCOME", Title: "WELCOME", Description: "",
			Value: discounts.StringFixed(2), ValueType: "fixed_amount",
			AllocationMethod: "across", TargetSelection: "entitled", TargetType: "line_item",
		}}
		o.DiscountCodes = []DiscountCode{{Code: "WELCOME", Amount: Amount{discounts}, Type: "fixed_amount"}}
	}
	if s.shippingTitle != "" {
		sl := ShippingLine{
			ID:              id*100 + 99,
			Title:           s.shippingTitle,
			Code:            s.shippingTitle,
			Source:          "shopify",
			Price:           Amount{s.shippingPrice},
			DiscountedPrice: Amount{s.shippingPrice},
			TaxLines:        taxLines(s.shippingPrice),
		}
		if taxed {
			tax = tax.Add(sl.TaxLines[0].Price.Decimal)
		}
		o.ShippingLines = []ShippingLine{sl}
	}
	if taxed {
		o.TaxLines = []TaxLine{{Title: s.taxTitle, Price: Amount{tax}, Rate: Rate{s.taxRate}}}
	}
	subtotal := lineTotal.Sub(discounts)
	total := subtotal.Add(s.shippingPrice)
	if !s.taxesIncluded {
		total = total.Add(tax)
	}
	o.TotalLineItemsPrice = Amount{lineTotal}
	o.TotalDiscounts = Amount{discounts}
	o.SubtotalPrice = Amount{subtotal}
	o.TotalTax = Amount{tax}
	o.TotalPrice = Amount{total}
	o.CurrentSubtotalPrice = o.SubtotalPrice
	o.CurrentTotalDiscounts = o.TotalDiscounts
	o.CurrentTotalTax = o.TotalTax
	o.CurrentTotalPrice = o.TotalPrice
	o.TotalOutstanding = Amount{decimal.Zero}
	switch s.financialStatus {
	case "paid", "refunded", "partially_refunded", "voided":
	default:
		o.TotalOutstanding = o.TotalPrice
	}
	o.TotalWeight = weight
	for _, edit := range s.edits {
		edit(&o)
	}
	return o
}

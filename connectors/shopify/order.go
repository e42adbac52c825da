package shopify

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// The REST order as Shopify sends it in webhooks and from orders.json. Only what dropsync
// uses is decoded; optional quantities are pointers so "absent" differs from 0.
type restOrder struct {
	ID                   int64             `json:"id"`
	Name                 string            `json:"name"`
	Email                string            `json:"email"`
	ContactEmail         string            `json:"contact_email"`
	Phone                string            `json:"phone"`
	CreatedAt            *time.Time        `json:"created_at"`
	UpdatedAt            *time.Time        `json:"updated_at"`
	CancelledAt          *time.Time        `json:"cancelled_at"`
	CancelReason         string            `json:"cancel_reason"`
	ClosedAt             *time.Time        `json:"closed_at"`
	Test                 bool              `json:"test"`
	FinancialStatus      string            `json:"financial_status"`
	FulfillmentStatus    *string           `json:"fulfillment_status"`
	Currency             string            `json:"currency"`
	PresentmentCurrency  string            `json:"presentment_currency"`
	TaxesIncluded        bool              `json:"taxes_included"`
	CustomerLocale       string            `json:"customer_locale"`
	Customer             *restCustomer     `json:"customer"`
	ShippingAddress      *restAddress      `json:"shipping_address"`
	BillingAddress       *restAddress      `json:"billing_address"`
	Note                 *string           `json:"note"`
	Tags                 string            `json:"tags"`
	LineItems            []restLine        `json:"line_items"`
	ShippingLines        []restShipping    `json:"shipping_lines"`
	TaxLines             []restTax         `json:"tax_lines"`
	DiscountApplications []restDiscountApp `json:"discount_applications"`
	Refunds              []restRefund      `json:"refunds"`
	SubtotalPrice        decimal.Decimal   `json:"subtotal_price"`
	TotalDiscounts       decimal.Decimal   `json:"total_discounts"`
	TotalTax             decimal.Decimal   `json:"total_tax"`
	TotalPrice           decimal.Decimal   `json:"total_price"`
	CurrentTotalPrice    *decimal.Decimal  `json:"current_total_price"`
	TotalShippingSet     *restMoneySet     `json:"total_shipping_price_set"`
	TotalPriceSet        *restMoneySet     `json:"total_price_set"`
}

type restCustomer struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

type restAddress struct {
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

type restLine struct {
	ID                  int64            `json:"id"`
	ProductID           int64            `json:"product_id"`
	VariantID           int64            `json:"variant_id"`
	SKU                 string           `json:"sku"`
	Title               string           `json:"title"`
	VariantTitle        string           `json:"variant_title"`
	Vendor              string           `json:"vendor"`
	Quantity            int              `json:"quantity"`
	CurrentQuantity     *int             `json:"current_quantity"`
	FulfillableQuantity *int             `json:"fulfillable_quantity"`
	Price               decimal.Decimal  `json:"price"`
	TotalDiscount       decimal.Decimal  `json:"total_discount"`
	DiscountAllocations []restAllocation `json:"discount_allocations"`
	TaxLines            []restTax        `json:"tax_lines"`
	Taxable             bool             `json:"taxable"`
	RequiresShipping    *bool            `json:"requires_shipping"`
	GiftCard            bool             `json:"gift_card"`
	Properties          json.RawMessage  `json:"properties"`
}

type restAllocation struct {
	Amount           decimal.Decimal `json:"amount"`
	ApplicationIndex int             `json:"discount_application_index"`
}

type restTax struct {
	Title string          `json:"title"`
	Rate  decimal.Decimal `json:"rate"`
	Price decimal.Decimal `json:"price"`
}

type restShipping struct {
	ID                  int64            `json:"id"`
	Title               string           `json:"title"`
	Code                string           `json:"code"`
	Price               decimal.Decimal  `json:"price"`
	DiscountedPrice     *decimal.Decimal `json:"discounted_price"`
	DiscountAllocations []restAllocation `json:"discount_allocations"`
	TaxLines            []restTax        `json:"tax_lines"`
}

type restDiscountApp struct {
	Type             string          `json:"type"`
	Code             string          `json:"code"`
	Title            string          `json:"title"`
	Description      string          `json:"description"`
	Value            decimal.Decimal `json:"value"`
	ValueType        string          `json:"value_type"`
	AllocationMethod string          `json:"allocation_method"`
	TargetSelection  string          `json:"target_selection"`
	TargetType       string          `json:"target_type"`
}

type restMoneySet struct {
	ShopMoney        restMoney `json:"shop_money"`
	PresentmentMoney restMoney `json:"presentment_money"`
}

type restMoney struct {
	Amount       decimal.Decimal `json:"amount"`
	CurrencyCode string          `json:"currency_code"`
}

type restRefund struct {
	ID               int64            `json:"id"`
	OrderID          int64            `json:"order_id"`
	CreatedAt        *time.Time       `json:"created_at"`
	Note             string           `json:"note"`
	RefundLineItems  []restRefundLine `json:"refund_line_items"`
	Transactions     []restTxn        `json:"transactions"`
	OrderAdjustments []restAdjustment `json:"order_adjustments"`
	ShippingLines    []struct {
		SubtotalAmountSet *restMoneySet `json:"subtotal_amount_set"`
	} `json:"refund_shipping_lines"`
}

type restRefundLine struct {
	LineItemID  int64           `json:"line_item_id"`
	Quantity    int             `json:"quantity"`
	Subtotal    decimal.Decimal `json:"subtotal"`
	TotalTax    decimal.Decimal `json:"total_tax"`
	RestockType string          `json:"restock_type"`
}

type restTxn struct {
	Kind   string          `json:"kind"`
	Status string          `json:"status"`
	Amount decimal.Decimal `json:"amount"`
}

type restAdjustment struct {
	Kind      string          `json:"kind"`
	Amount    decimal.Decimal `json:"amount"`
	TaxAmount decimal.Decimal `json:"tax_amount"`
}

// ParseOrder converts a REST order (a webhook body, which is the bare resource, or one
// element of orders.json) into dropsync's Sale. EINVALID when the body is not an order.
func ParseOrder(shop string, body []byte) (dropsync.Sale, error) {
	var ro restOrder
	if err := json.Unmarshal(body, &ro); err != nil {
		return dropsync.Sale{}, dropsync.Errorf(dropsync.EINVALID, "order body is not a Shopify order: %v", jsonProblem(err))
	}
	return ro.sale(shop)
}

func (ro restOrder) sale(shop string) (dropsync.Sale, error) {
	if ro.ID <= 0 {
		return dropsync.Sale{}, dropsync.Errorf(dropsync.EINVALID, "order has no id")
	}
	if ro.UpdatedAt == nil {
		return dropsync.Sale{}, dropsync.Errorf(dropsync.EINVALID, "order %d has no updated_at", ro.ID)
	}
	s := dropsync.Sale{
		Shop: shop, ID: ro.ID, Name: ro.Name, UpdatedAt: ro.UpdatedAt.UTC(),
		CancelReason: ro.CancelReason, Test: ro.Test, FinancialStatus: ro.FinancialStatus,
		Currency: ro.Currency, PresentmentCurrency: ro.PresentmentCurrency, TaxesIncluded: ro.TaxesIncluded,
		Email: firstNonEmpty(ro.Email, ro.ContactEmail), Phone: ro.Phone, Locale: ro.CustomerLocale,
		Tags: ro.Tags, SubtotalPrice: ro.SubtotalPrice, TotalDiscounts: ro.TotalDiscounts,
		TotalTax: ro.TotalTax, TotalPrice: ro.TotalPrice, CurrentTotalPrice: ro.TotalPrice,
	}
	if ro.CreatedAt != nil {
		s.CreatedAt = ro.CreatedAt.UTC()
	} else {
		s.CreatedAt = s.UpdatedAt
	}
	s.CancelledAt = utcPtr(ro.CancelledAt)
	s.ClosedAt = utcPtr(ro.ClosedAt)
	if ro.FulfillmentStatus != nil {
		s.FulfillmentStatus = *ro.FulfillmentStatus
	}
	if ro.Note != nil {
		s.Note = *ro.Note
	}
	if ro.CurrentTotalPrice != nil {
		s.CurrentTotalPrice = *ro.CurrentTotalPrice
	}
	if ro.Customer != nil {
		s.CustomerID = ro.Customer.ID
		if s.Email == "" {
			s.Email = ro.Customer.Email
		}
	}
	if ro.TotalPriceSet != nil && ro.PresentmentCurrency != "" && ro.PresentmentCurrency != ro.Currency {
		p := ro.TotalPriceSet.PresentmentMoney.Amount
		s.PresentmentTotal = &p
	}
	s.ShippingAddress = ro.ShippingAddress.address()
	s.BillingAddress = ro.BillingAddress.address()
	for _, l := range ro.LineItems {
		line := dropsync.Line{
			ID: l.ID, ProductID: l.ProductID, VariantID: l.VariantID, SKU: strings.TrimSpace(l.SKU),
			Title: l.Title, VariantTitle: l.VariantTitle, Vendor: l.Vendor, Quantity: l.Quantity,
			CurrentQuantity: l.Quantity, FulfillableQuantity: l.Quantity, Price: l.Price,
			TotalDiscount: l.TotalDiscount, Taxable: l.Taxable, RequiresShipping: true, GiftCard: l.GiftCard,
			TaxLines: taxes(l.TaxLines), DiscountAllocations: allocations(l.DiscountAllocations),
			Properties: properties(l.Properties),
		}
		if l.CurrentQuantity != nil {
			line.CurrentQuantity = *l.CurrentQuantity
		} else {
			// API versions without current_quantity: the ordered quantity less what was refunded.
			for _, r := range ro.Refunds {
				for _, rl := range r.RefundLineItems {
					if rl.LineItemID == l.ID {
						line.CurrentQuantity -= rl.Quantity
					}
				}
			}
			line.CurrentQuantity = max(line.CurrentQuantity, 0)
		}
		if l.FulfillableQuantity != nil {
			line.FulfillableQuantity = *l.FulfillableQuantity
		}
		if l.RequiresShipping != nil {
			line.RequiresShipping = *l.RequiresShipping
		}
		if line.TotalDiscount.IsZero() {
			for _, a := range line.DiscountAllocations {
				line.TotalDiscount = line.TotalDiscount.Add(a.Amount)
			}
		}
		s.Lines = append(s.Lines, line)
	}
	for _, sl := range ro.ShippingLines {
		ship := dropsync.ShippingLine{ID: sl.ID, Title: sl.Title, Code: sl.Code, Price: sl.Price,
			DiscountedPrice: sl.Price, TaxLines: taxes(sl.TaxLines), DiscountAllocations: allocations(sl.DiscountAllocations)}
		if sl.DiscountedPrice != nil {
			ship.DiscountedPrice = *sl.DiscountedPrice
		}
		s.ShippingLines = append(s.ShippingLines, ship)
	}
	if ro.TotalShippingSet != nil {
		s.TotalShipping = ro.TotalShippingSet.ShopMoney.Amount
	} else {
		for _, sl := range s.ShippingLines {
			s.TotalShipping = s.TotalShipping.Add(sl.DiscountedPrice)
		}
	}
	s.TaxLines = taxes(ro.TaxLines)
	for _, d := range ro.DiscountApplications {
		s.Discounts = append(s.Discounts, dropsync.Discount{Type: d.Type, Code: d.Code, Title: d.Title,
			Description: d.Description, Value: d.Value, ValueType: d.ValueType, AllocationMethod: d.AllocationMethod,
			TargetSelection: d.TargetSelection, TargetType: d.TargetType})
	}
	for _, r := range ro.Refunds {
		s.Refunds = append(s.Refunds, r.refund())
	}
	return s, nil
}

// ParseRefund converts a refunds/create body into dropsync's Refund and its order id.
func ParseRefund(body []byte) (dropsync.Refund, int64, error) {
	var rr restRefund
	if err := json.Unmarshal(body, &rr); err != nil {
		return dropsync.Refund{}, 0, dropsync.Errorf(dropsync.EINVALID, "refund body is not a Shopify refund: %v", jsonProblem(err))
	}
	if rr.ID <= 0 || rr.OrderID <= 0 {
		return dropsync.Refund{}, 0, dropsync.Errorf(dropsync.EINVALID, "refund has no id or order_id")
	}
	return rr.refund(), rr.OrderID, nil
}

func (r restRefund) refund() dropsync.Refund {
	out := dropsync.Refund{ID: r.ID, Note: r.Note}
	if r.CreatedAt != nil {
		out.CreatedAt = r.CreatedAt.UTC()
	}
	for _, l := range r.RefundLineItems {
		out.Lines = append(out.Lines, dropsync.RefundLine{LineID: l.LineItemID, Quantity: l.Quantity,
			Subtotal: l.Subtotal, Tax: l.TotalTax, Restock: l.RestockType})
	}
	for _, t := range r.Transactions {
		if t.Kind == "refund" && (t.Status == "success" || t.Status == "") {
			out.Amount = out.Amount.Add(t.Amount)
		}
	}
	// Refunded shipping: newer versions list refund_shipping_lines; older ones an order
	// adjustment of kind shipping_refund (negative amount).
	for _, sl := range r.ShippingLines {
		if sl.SubtotalAmountSet != nil {
			out.Shipping = out.Shipping.Add(sl.SubtotalAmountSet.ShopMoney.Amount)
		}
	}
	if len(r.ShippingLines) == 0 {
		for _, a := range r.OrderAdjustments {
			if a.Kind == "shipping_refund" {
				out.Shipping = out.Shipping.Add(a.Amount.Abs())
			}
		}
	}
	return out
}

func (a *restAddress) address() *dropsync.Address {
	if a == nil {
		return nil
	}
	return &dropsync.Address{FirstName: a.FirstName, LastName: a.LastName, Name: a.Name, Company: a.Company,
		Address1: a.Address1, Address2: a.Address2, City: a.City, Province: a.Province,
		ProvinceCode: a.ProvinceCode, Zip: a.Zip, Country: a.Country,
		CountryCode: strings.ToUpper(a.CountryCode), Phone: a.Phone}
}

func taxes(in []restTax) []dropsync.TaxLine {
	var out []dropsync.TaxLine
	for _, t := range in {
		out = append(out, dropsync.TaxLine{Title: t.Title, Rate: t.Rate, Price: t.Price})
	}
	return out
}

func allocations(in []restAllocation) []dropsync.DiscountAllocation {
	var out []dropsync.DiscountAllocation
	for _, a := range in {
		out = append(out, dropsync.DiscountAllocation{Amount: a.Amount, ApplicationIndex: a.ApplicationIndex})
	}
	return out
}

// properties reads line item properties, which some old orders carry as an object.
func properties(raw json.RawMessage) []dropsync.Property {
	var list []struct {
		Name  string `json:"name"`
		Value any    `json:"value"`
	}
	if err := json.Unmarshal(raw, &list); err == nil {
		var out []dropsync.Property
		for _, p := range list {
			out = append(out, dropsync.Property{Name: p.Name, Value: stringify(p.Value)})
		}
		return out
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err == nil {
		var out []dropsync.Property
		for k, v := range obj {
			out = append(out, dropsync.Property{Name: k, Value: stringify(v)})
		}
		slices.SortFunc(out, func(a, b dropsync.Property) int { return strings.Compare(a.Name, b.Name) })
		return out
	}
	return nil
}

func stringify(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// jsonProblem describes a decoding error without quoting the body (it may hold customer
// data).
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return "malformed JSON at byte " + strconv.FormatInt(e.Offset, 10)
	case *json.UnmarshalTypeError:
		return "field " + e.Field + " has the wrong type (" + e.Value + ")"
	}
	return "malformed JSON"
}

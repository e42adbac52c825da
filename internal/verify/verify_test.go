package verify

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/mapping"
)

const shop = "example.myshopify.com"

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func usAddress() *dropsync.Address {
	return &dropsync.Address{FirstName: "Steve", LastName: "Shipper", Address1: "123 Shipping Street",
		City: "Shippington", ProvinceCode: "KY", Zip: "40003", CountryCode: "US"}
}

func tline(id int64, sku, price string, qty int) dropsync.Line {
	return dropsync.Line{ID: id, SKU: sku, Price: dec(price), Quantity: qty, CurrentQuantity: qty, RequiresShipping: true}
}

func testSale(lines ...dropsync.Line) dropsync.Sale {
	return dropsync.Sale{Shop: shop, ID: 1001, FinancialStatus: "paid", Currency: "USD",
		ShippingAddress: usAddress(), Lines: lines}
}

func row(sku, supplierSKU, cost, currency string, qty, priority int) dropsync.Mapping {
	return dropsync.Mapping{Shop: shop, SKU: sku, Supplier: "acme", SupplierSKU: supplierSKU,
		UnitCost: dec(cost), Currency: currency, Quantity: qty, Priority: priority}
}

// standardRows map TS to a 5.00 USD shirt and MUG to a 3.00 USD mug.
var standardRows = []dropsync.Mapping{row("TS", "A-TS", "5.00", "USD", 1, 1), row("MUG", "A-MUG", "3.00", "USD", 1, 1)}

// holdsOf returns the holds of one rule, formatted.
func holdsOf(holds []Hold, rule string) []string {
	var out []string
	for _, h := range holds {
		if h.Rule == rule {
			out = append(out, h.String())
		}
	}
	return out
}

func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		t.Errorf("%s:\ngot\n%s\nwant\n%s", what, g, w)
	}
}

func TestCheckPayment(t *testing.T) {
	tests := []struct {
		name        string
		status      string
		requirePaid bool
		want        []string
	}{
		{"paid", "paid", true, nil},
		{"authorized", "authorized", true, nil},
		{"pending", "pending", true, []string{"payment: order is pending, not paid or authorized"}},
		{"partially paid", "partially_paid", true, []string{"payment: order is partially paid, not paid or authorized"}},
		{"voided", "voided", true, []string{"payment: order is voided, not paid or authorized"}},
		{"no status", "", true, []string{"payment: order has no payment status, not paid or authorized"}},
		// A refunded order was paid; its lines' refunds decide what is left to forward.
		{"refunded", "refunded", true, nil},
		{"pending but payment not required", "pending", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSale(tline(1, "TS", "20.00", 1))
			s.FinancialStatus = tt.status
			plan := mapping.Resolve(s, standardRows, nil)
			got := Check(s, plan, "", Rules{RequirePaid: tt.requirePaid})
			sameStrings(t, "holds", holdsOf(got, RulePayment), tt.want)
			if len(got) != len(tt.want) {
				t.Errorf("all holds = %v, want only the payment holds", got)
			}
		})
	}
}

func TestCheckAddress(t *testing.T) {
	with := func(edit func(a *dropsync.Address)) *dropsync.Address {
		a := usAddress()
		edit(a)
		return a
	}
	tests := []struct {
		name string
		addr *dropsync.Address
		want []string
	}{
		{"complete US address", usAddress(), nil},
		{"ZIP+4", with(func(a *dropsync.Address) { a.Zip = "40003-1234" }), nil},
		{"no shipping address", nil, []string{"address: order has no shipping address"}},
		{"empty shipping address", &dropsync.Address{}, []string{"address: order has no shipping address"}},
		{"name in one field", with(func(a *dropsync.Address) { a.FirstName, a.LastName, a.Name = "", "", "Steve Shipper" }), nil},
		{"last name only", with(func(a *dropsync.Address) { a.FirstName = "" }), nil},
		{"no name", with(func(a *dropsync.Address) { a.FirstName, a.LastName = " ", "" }),
			[]string{"address: recipient name is missing"}},
		{"no street", with(func(a *dropsync.Address) { a.Address1 = "" }),
			[]string{"address: street (address1) is missing"}},
		{"no city", with(func(a *dropsync.Address) { a.City = "  " }),
			[]string{"address: city is missing"}},
		{"no country code", with(func(a *dropsync.Address) { a.CountryCode = "" }),
			[]string{"address: country code is missing"}},
		{"country code not assigned", with(func(a *dropsync.Address) { a.CountryCode = "XX" }),
			[]string{"address: country code is not a valid ISO 3166-1 alpha-2 code"}},
		{"UK is not a country code", with(func(a *dropsync.Address) { a.CountryCode, a.Zip = "UK", "SW1A 1AA" }),
			[]string{"address: country code is not a valid ISO 3166-1 alpha-2 code"}},
		{"lower-case country code", with(func(a *dropsync.Address) { a.CountryCode = "us" }), nil},
		{"no zip in the US", with(func(a *dropsync.Address) { a.Zip = "" }),
			[]string{"address: postal code is missing (required for US)"}},
		{"bad US zip", with(func(a *dropsync.Address) { a.Zip = "4000" }),
			[]string{"address: postal code is not valid for US"}},
		{"no province in the US", with(func(a *dropsync.Address) { a.ProvinceCode = "" }),
			[]string{"address: province code is missing (required for US)"}},
		{"CA postal code", ca("K1A 0B1", "ON"), nil},
		{"CA postal code without space, lower case", ca("k1a0b1", "ON"), nil},
		{"bad CA postal code", ca("K1A 0B", "ON"), []string{"address: postal code is not valid for CA"}},
		{"no CA province", ca("K1A 0B1", ""), []string{"address: province code is missing (required for CA)"}},
		{"GB postcode", abroad("GB", "SW1A 1AA"), nil},
		{"GB short postcode", abroad("GB", "M1 1AE"), nil},
		{"bad GB postcode", abroad("GB", "SW1A"), []string{"address: postal code is not valid for GB"}},
		{"DE postal code", abroad("DE", "10115"), nil},
		{"bad DE postal code", abroad("DE", "1234"), []string{"address: postal code is not valid for DE"}},
		{"no DE postal code", abroad("DE", ""), []string{"address: postal code is missing (required for DE)"}},
		{"FR postal code", abroad("FR", "75001"), nil},
		{"IT postal code", abroad("IT", "00184"), nil},
		{"ES postal code", abroad("ES", "28013"), nil},
		{"NL postcode", abroad("NL", "1012 AB"), nil},
		{"NL postcode without space", abroad("NL", "1012ab"), nil},
		{"bad NL postcode", abroad("NL", "1012"), []string{"address: postal code is not valid for NL"}},
		{"PL postal code", abroad("PL", "00-950"), nil},
		{"bad PL postal code", abroad("PL", "0-950"), []string{"address: postal code is not valid for PL"}},
		{"BR CEP", abroad("BR", "01310-100"), nil},
		{"bad BR CEP", abroad("BR", "0131-100"), []string{"address: postal code is not valid for BR"}},
		{"AU postcode", au("2000", "NSW"), nil},
		{"bad AU postcode", au("20000", "NSW"), []string{"address: postal code is not valid for AU"}},
		{"no AU state", au("2000", ""), []string{"address: province code is missing (required for AU)"}},
		{"JP postal code", abroad("JP", "100-0001"), nil},
		{"bad JP postal code", abroad("JP", "100-001"), []string{"address: postal code is not valid for JP"}},
		{"IN PIN", abroad("IN", "110001"), nil},
		{"bad IN PIN", abroad("IN", "11001"), []string{"address: postal code is not valid for IN"}},
		{"HK needs no postal code", abroad("HK", ""), nil},
		{"AE needs no postal code", abroad("AE", ""), nil},
		{"IE Eircode is optional", abroad("IE", ""), nil},
		{"IE with an Eircode", abroad("IE", "D02 AF30"), nil},
		{"a country without a known shape takes any postal code", abroad("IS", "101"), nil},
		{"several problems at once", &dropsync.Address{Name: "Steve Shipper", CountryCode: "DE", Zip: "1"},
			[]string{
				"address: street (address1) is missing",
				"address: city is missing",
				"address: postal code is not valid for DE",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSale(tline(1, "TS", "20.00", 1))
			s.ShippingAddress = tt.addr
			got := Check(s, mapping.Resolve(s, standardRows, nil), "", Rules{})
			sameStrings(t, "holds", holdsOf(got, RuleAddress), tt.want)
			if tt.addr == nil {
				return
			}
			// Hold reasons are shown and stored: no customer data in them.
			reason := Reason(got)
			for _, v := range []string{tt.addr.FirstName, tt.addr.LastName, tt.addr.Name, tt.addr.Address1, tt.addr.City, tt.addr.Zip} {
				if len(v) > 1 && strings.Contains(reason, v) {
					t.Errorf("Reason = %q, want it free of the address value %q", reason, v)
				}
			}
		})
	}
}

func abroad(country, zip string) *dropsync.Address {
	return &dropsync.Address{Name: "Steve Shipper", Address1: "1 Main Street", City: "Capital", Zip: zip, CountryCode: country}
}

func ca(zip, province string) *dropsync.Address {
	a := abroad("CA", zip)
	a.ProvinceCode = province
	return a
}

func au(zip, province string) *dropsync.Address {
	a := abroad("AU", zip)
	a.ProvinceCode = province
	return a
}

func TestCheckAddressOnlyForMappedLines(t *testing.T) {
	tests := []struct {
		name string
		rows []dropsync.Mapping
		want []string
	}{
		{"mapped line", standardRows, []string{"address: order has no shipping address"}},
		{"nothing mapped", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSale(tline(1, "TS", "20.00", 1))
			s.ShippingAddress = nil
			got := Check(s, mapping.Resolve(s, tt.rows, nil), "", Rules{})
			sameStrings(t, "holds", holdsOf(got, RuleAddress), tt.want)
		})
	}
}

func TestCheckMargin(t *testing.T) {
	discounted := tline(1, "TS", "20.00", 2)
	discounted.TotalDiscount = dec("16.00") // 12.00 a unit after discount against a 5.00 cost
	allocated := tline(1, "TS", "20.00", 2)
	allocated.DiscountAllocations = []dropsync.DiscountAllocation{{Amount: dec("10.00")}, {Amount: dec("6.00")}}
	free := tline(1, "TS", "20.00", 1)
	free.TotalDiscount = dec("20.00")
	edited := tline(1, "TS", "6.00", 3)
	edited.CurrentQuantity = 1
	// total_discount disagrees with the allocations: the allocations (10.00, so 15.00 a unit)
	// count, as on the invoice, not total_discount (16.00, so 12.00 a unit).
	both := tline(1, "TS", "20.00", 2)
	both.TotalDiscount = dec("16.00")
	both.DiscountAllocations = []dropsync.DiscountAllocation{{Amount: dec("10.00")}}
	// 11.90 with 19% VAT: 10.00 of it is the merchant's against a 9.00 cost, a 10% margin.
	vat := tline(1, "TS", "11.90", 1)
	vat.TaxLines = []dropsync.TaxLine{{Title: "MwSt", Rate: dec("0.19"), Price: dec("1.90")}}
	// 2 × 11.90 − 2.38 = 21.42 with 19% VAT: 18.00 net, 9.00 a unit against an 8.00 cost.
	vat2 := tline(1, "TS", "11.90", 2)
	vat2.DiscountAllocations = []dropsync.DiscountAllocation{{Amount: dec("2.38")}}
	vat2.TaxLines = []dropsync.TaxLine{{Title: "MwSt", Rate: dec("0.19"), Price: dec("3.42")}}
	vatExcluded := tline(1, "TS", "10.00", 1)
	vatExcluded.TaxLines = []dropsync.TaxLine{{Title: "Sales tax", Rate: dec("0.19"), Price: dec("1.90")}}
	costs9 := []dropsync.Mapping{row("TS", "A-TS", "9.00", "USD", 1, 1)}
	costs8 := []dropsync.Mapping{row("TS", "A-TS", "8.00", "USD", 1, 1)}
	tests := []struct {
		name          string
		line          dropsync.Line
		taxesIncluded bool
		rows          []dropsync.Mapping
		minimum       string
		want          []string
	}{
		{"margin ok", tline(1, "TS", "20.00", 1), false, standardRows, "20", nil},
		{"margin low", tline(1, "TS", "5.72", 1), false, standardRows, "20",
			[]string{"margin: SKU TS leaves 12.5% (minimum 20%)"}},
		{"exactly the minimum", tline(1, "TS", "6.25", 1), false, standardRows, "20", nil},
		{"just under the minimum is not rounded up", tline(1, "TS", "6.24", 1), false, standardRows, "20",
			[]string{"margin: SKU TS leaves 19.8% (minimum 20%)"}},
		{"selling at a loss", tline(1, "TS", "4.00", 1), false, standardRows, "20",
			[]string{"margin: SKU TS leaves -25% (minimum 20%)"}},
		{"disabled", tline(1, "TS", "4.00", 1), false, standardRows, "0", nil},
		{"mismatched currency", tline(1, "TS", "20.00", 1), false, []dropsync.Mapping{row("TS", "A-TS", "5.00", "EUR", 1, 1)}, "20",
			[]string{"margin: supplier cost for SKU TS is in EUR, order is in USD"}},
		{"discounted line", discounted, false, standardRows, "60",
			[]string{"margin: SKU TS leaves 58.3% (minimum 60%)"}},
		{"discount given as allocations only", allocated, false, standardRows, "60",
			[]string{"margin: SKU TS leaves 58.3% (minimum 60%)"}},
		{"bundle sums its rows per storefront unit", tline(1, "GIFT", "10.00", 2), false,
			[]dropsync.Mapping{row("GIFT", "A-MUG", "3.00", "USD", 1, 1), row("GIFT", "A-TEA", "1.50", "USD", 2, 1)}, "50",
			[]string{"margin: SKU GIFT leaves 40% (minimum 50%)"}},
		{"bundle with enough margin", tline(1, "GIFT", "12.00", 2), false,
			[]dropsync.Mapping{row("GIFT", "A-MUG", "3.00", "USD", 1, 1), row("GIFT", "A-TEA", "1.50", "USD", 2, 1)}, "50", nil},
		{"3-pack costs three supplier units", tline(1, "SOCKS-3", "10.00", 1), false,
			[]dropsync.Mapping{row("SOCKS-3", "A-SOCK", "3.00", "USD", 3, 1)}, "20",
			[]string{"margin: SKU SOCKS-3 leaves 10% (minimum 20%)"}},
		{"free item with a cost", free, false, standardRows, "20",
			[]string{"margin: SKU TS brings no revenue after discounts but costs 5.00 USD per unit"}},
		{"free item with a free supply", free, false, []dropsync.Mapping{row("TS", "A-TS", "0", "USD", 1, 1)}, "20", nil},
		{"edited line compares per unit", edited, false, standardRows, "20",
			[]string{"margin: SKU TS leaves 16.6% (minimum 20%)"}},
		{"allocations win over a disagreeing total_discount", both, false, standardRows, "60", nil},
		{"allocations win, and can still fall short", both, false, standardRows, "70",
			[]string{"margin: SKU TS leaves 66.6% (minimum 70%)"}},
		{"taxes included are not revenue", vat, true, costs9, "20",
			[]string{"margin: SKU TS leaves 10% (minimum 20%)"}},
		{"taxes included, discounted, two units", vat2, true, costs8, "20",
			[]string{"margin: SKU TS leaves 11.1% (minimum 20%)"}},
		{"taxes excluded are not in the price", vatExcluded, false, costs9, "20",
			[]string{"margin: SKU TS leaves 10% (minimum 20%)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSale(tt.line)
			s.TaxesIncluded = tt.taxesIncluded
			plan := mapping.Resolve(s, tt.rows, nil)
			if len(plan.PurchaseOrders) == 0 {
				t.Fatalf("plan has no purchase order; the case is broken")
			}
			got := Check(s, plan, "", Rules{MinMarginPercent: dec(tt.minimum)})
			sameStrings(t, "holds", holdsOf(got, RuleMargin), tt.want)
		})
	}
}

func TestCheckMarginPerLine(t *testing.T) {
	s := testSale(tline(1, "TS", "5.50", 1), tline(2, "MUG", "30.00", 1), tline(3, "HANDMADE", "1.00", 1))
	got := Check(s, mapping.Resolve(s, standardRows, nil), "", Rules{MinMarginPercent: dec("20")})
	sameStrings(t, "holds", holdsOf(got, RuleMargin), []string{"margin: SKU TS leaves 9% (minimum 20%)"})
}

func TestCheckRisk(t *testing.T) {
	tests := []struct {
		holdAt, recommendation string
		want                   []string
	}{
		{RiskNone, RecommendCancel, nil},
		{"", RecommendCancel, nil},
		{RiskMedium, "", nil},
		{RiskMedium, RecommendAccept, nil},
		{RiskMedium, RecommendInvestigate, []string{"risk: storefront risk analysis recommends investigating the order (medium risk)"}},
		{RiskMedium, RecommendCancel, []string{"risk: storefront risk analysis recommends cancelling the order (high risk)"}},
		{RiskHigh, RecommendInvestigate, nil},
		{RiskHigh, RecommendCancel, []string{"risk: storefront risk analysis recommends cancelling the order (high risk)"}},
		{RiskHigh, "CANCEL", []string{"risk: storefront risk analysis recommends cancelling the order (high risk)"}},
	}
	for _, tt := range tests {
		t.Run("hold "+tt.holdAt+" on "+tt.recommendation, func(t *testing.T) {
			s := testSale(tline(1, "TS", "20.00", 1))
			got := Check(s, mapping.Resolve(s, standardRows, nil), tt.recommendation, Rules{HoldRisk: tt.holdAt})
			sameStrings(t, "holds", holdsOf(got, RuleRisk), tt.want)
		})
	}
}

func TestCheckQuantity(t *testing.T) {
	tests := []struct {
		name string
		max  int
		want []string
	}{
		{"no cap", 0, nil},
		{"under the cap", 12, nil},
		{"above the cap", 10, []string{"quantity: SKU TS has quantity 12, above the maximum of 10"}},
		{"every line above the cap", 2, []string{
			"quantity: SKU TS has quantity 12, above the maximum of 2",
			"quantity: SKU MUG has quantity 3, above the maximum of 2",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// HANDMADE is unmapped: the merchant ships it, so its quantity is not dropsync's call.
			s := testSale(tline(1, "TS", "20.00", 12), tline(2, "MUG", "10.00", 3), tline(3, "HANDMADE", "1.00", 50))
			got := Check(s, mapping.Resolve(s, standardRows, nil), "", Rules{MaxQuantity: tt.max})
			sameStrings(t, "holds", holdsOf(got, RuleQuantity), tt.want)
		})
	}
}

func TestCheckCountry(t *testing.T) {
	tests := []struct {
		name    string
		country string
		hold    []string
		want    []string
	}{
		{"no hold list", "US", nil, nil},
		{"destination not listed", "US", []string{"BR", "NG"}, nil},
		{"destination listed", "BR", []string{"br", "NG"}, []string{"country: destination BR is on the hold list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSale(tline(1, "TS", "20.00", 1))
			s.ShippingAddress = abroad(tt.country, "01310-100")
			got := Check(s, mapping.Resolve(s, standardRows, nil), "", Rules{HoldCountries: tt.hold})
			sameStrings(t, "holds", holdsOf(got, RuleCountry), tt.want)
		})
	}
}

func TestCheckMapping(t *testing.T) {
	rows := []dropsync.Mapping{row("TS", "A-TS", "5.00", "USD", 1, 1), {Shop: shop, SKU: "TS", Supplier: "beta",
		SupplierSKU: "B-TS", UnitCost: dec("6.00"), Currency: "USD", Quantity: 1, Priority: 2, Countries: []string{"CA"}}}
	outOfStock := func(mapping.Candidate) string { return dropsync.ReasonOutOfStock }
	s := testSale(tline(1, "TS", "20.00", 1), tline(2, "MUG", "10.00", 1))
	plan := mapping.Resolve(s, append(rows, standardRows[1]), outOfStock)
	got := Check(s, plan, "", Rules{})
	sameStrings(t, "holds", holdsOf(got, RuleMapping), []string{
		"mapping: SKU TS: priority 1 (acme): out_of_stock, priority 2 (beta): does not ship to US",
		"mapping: SKU MUG: priority 1 (acme): out_of_stock",
	})
}

func TestCheckEverythingInOrder(t *testing.T) {
	s := testSale(tline(1, "TS", "5.50", 40))
	s.FinancialStatus = "pending"
	s.ShippingAddress = abroad("BR", "")
	rows := []dropsync.Mapping{row("TS", "A-TS", "5.00", "USD", 1, 1), row("MUG", "A-MUG", "3.00", "USD", 1, 1)}
	s.Lines = append(s.Lines, tline(2, "MUG", "10.00", 1))
	outOfMugs := func(c mapping.Candidate) string {
		if c.SupplierSKU == "A-MUG" {
			return dropsync.ReasonOutOfStock
		}
		return ""
	}
	rules := Rules{RequirePaid: true, MinMarginPercent: dec("20"), HoldRisk: RiskMedium, MaxQuantity: 10, HoldCountries: []string{"BR"}}
	got := Check(s, mapping.Resolve(s, rows, outOfMugs), RecommendInvestigate, rules)
	want := "payment: order is pending, not paid or authorized; " +
		"address: postal code is missing (required for BR); " +
		"margin: SKU TS leaves 9% (minimum 20%); " +
		"risk: storefront risk analysis recommends investigating the order (medium risk); " +
		"quantity: SKU TS has quantity 40, above the maximum of 10; " +
		"country: destination BR is on the hold list; " +
		"mapping: SKU MUG: priority 1 (acme): out_of_stock"
	if got := Reason(got); got != want {
		t.Errorf("Reason:\ngot  %s\nwant %s", got, want)
	}
}

func TestCheckIgnoredOrder(t *testing.T) {
	// Nothing mapped: the caller ignores the order, so shipping rules have nothing to say.
	s := testSale(tline(1, "HANDMADE", "20.00", 40))
	s.ShippingAddress = nil
	plan := mapping.Resolve(s, standardRows, nil)
	if !plan.Ignored() {
		t.Fatalf("plan.Ignored() = false, want true")
	}
	rules := Rules{MinMarginPercent: dec("20"), MaxQuantity: 10, HoldCountries: []string{"US"}}
	if got := Check(s, plan, "", rules); len(got) != 0 {
		t.Errorf("holds = %v, want none", got)
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		name  string
		holds []Hold
		want  string
	}{
		{"no holds", nil, ""},
		{"one hold", []Hold{{Rule: RulePayment, Reason: "order is pending, not paid or authorized"}},
			"payment: order is pending, not paid or authorized"},
		{"two holds", []Hold{
			{Rule: RulePayment, Reason: "order is pending, not paid or authorized"},
			{Rule: RuleMargin, Reason: "SKU TS leaves 12.5% (minimum 20%)"},
		}, "payment: order is pending, not paid or authorized; margin: SKU TS leaves 12.5% (minimum 20%)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reason(tt.holds); got != tt.want {
				t.Errorf("Reason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOverridable(t *testing.T) {
	tests := []struct {
		hold Hold
		want bool
	}{
		{Hold{RulePayment, "order is pending, not paid or authorized"}, true},
		{Hold{RuleAddress, "postal code is not valid for DE"}, true},
		{Hold{RuleAddress, "order has no shipping address"}, false},
		{Hold{RuleMargin, "SKU TS leaves 12.5% (minimum 20%)"}, true},
		{Hold{RuleRisk, "storefront risk analysis recommends cancelling the order (high risk)"}, true},
		{Hold{RuleQuantity, "SKU TS has quantity 12, above the maximum of 10"}, true},
		{Hold{RuleCountry, "destination BR is on the hold list"}, true},
		{Hold{RuleMapping, "SKU TS: priority 1 (acme): out_of_stock"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.hold.String(), func(t *testing.T) {
			if got := tt.hold.Overridable(); got != tt.want {
				t.Errorf("Overridable() = %v, want %v", got, tt.want)
			}
		})
	}
	// The non-overridable address hold is the one Check gives for a missing address.
	s := testSale(tline(1, "TS", "20.00", 1))
	s.ShippingAddress = nil
	for _, h := range Check(s, mapping.Resolve(s, standardRows, nil), "", Rules{}) {
		if h.Overridable() {
			t.Errorf("%v is overridable, want not", h)
		}
	}
}

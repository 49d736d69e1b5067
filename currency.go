package bowtie

import "strings"

// currencies is the set of active ISO 4217 codes (list of the ISO 4217
// maintenance agency, 2024).
var currencies = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB
BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD
KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC
SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR
ZMW ZWG`) {
		m[c] = true
	}
	return m
}()

// IsCurrency reports whether code is an active ISO 4217 currency code
// (upper case).
func IsCurrency(code string) bool { return currencies[code] }

// currencySymbols maps the symbols real exports put in money cells to codes.
// Ambiguous symbols ($, ¥, kr) are not listed: a cell with one needs the
// row's currency column or the import's --currency.
var currencySymbols = map[string]string{
	"€": "EUR", "£": "GBP", "₹": "INR", "₽": "RUB", "₩": "KRW", "₺": "TRY", "₪": "ILS",
	"₫": "VND", "₴": "UAH", "₱": "PHP", "₦": "NGN", "zł": "PLN", "R$": "BRL", "US$": "USD",
	"CA$": "CAD", "A$": "AUD", "C$": "CAD", "CHF": "CHF", "Fr.": "CHF",
}

// CurrencySymbol returns the code of an unambiguous currency symbol.
func CurrencySymbol(sym string) (string, bool) {
	c, ok := currencySymbols[sym]
	return c, ok
}

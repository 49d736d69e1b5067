package demo

// Word lists for names, titles and survey comments. All names are invented;
// domains use the reserved .example top-level domain.

var industries = []string{
	"automotive", "food & beverage", "pharmaceuticals", "packaging", "metal fabrication",
	"plastics", "logistics", "chemicals", "electronics", "aerospace",
}

var companyStems = []string{
	"Brandt", "Keller", "Nordwerk", "Vogel", "Lindgren", "Marchetti", "Dubois", "Harrow", "Castell",
	"Fischer", "Aalto", "Moreau", "Bianchi", "Ostrava", "Weber", "Sandvik", "Holm", "Ricci", "Lambert",
	"Baxter", "Kowalski", "Novak", "Steiner", "Rhein", "Alpen", "Delta", "Polar", "Meridian", "Atlas",
	"Summit", "Granite", "Falk", "Berger", "Thornton", "Whitfield", "Carver", "Ellison", "Prescott",
}

var companyNouns = map[string][]string{
	"automotive":        {"Fahrzeugteile", "Automotive", "Motion", "Components"},
	"food & beverage":   {"Foods", "Getränke", "Dairy", "Bakeries"},
	"pharmaceuticals":   {"Pharma", "Life Sciences", "Biologics", "Health"},
	"packaging":         {"Verpackung", "Packaging", "Pack", "Cartons"},
	"metal fabrication": {"Metallbau", "Steel", "Metalworks", "Precision"},
	"plastics":          {"Kunststoff", "Polymers", "Plastics", "Moulding"},
	"logistics":         {"Logistik", "Logistics", "Freight", "Distribution"},
	"chemicals":         {"Chemie", "Chemicals", "Coatings", "Materials"},
	"electronics":       {"Elektronik", "Electronics", "Circuits", "Devices"},
	"aerospace":         {"Aerospace", "Aviation", "Aero", "Flight Systems"},
}

// country is where an account is: its region, time zone, legal suffix,
// top-level domain and the currency its campaigns are bought in.
type country struct {
	code, region, zone, suffix, tld string
	weight                          float64
	na                              bool
	z                               *zone
	repGroup                        int
}

var b2bCountries = []country{
	{code: "DE", region: "DACH", zone: "Europe/Berlin", suffix: "GmbH", tld: "de", weight: 20},
	{code: "AT", region: "DACH", zone: "Europe/Vienna", suffix: "GmbH", tld: "at", weight: 4},
	{code: "CH", region: "DACH", zone: "Europe/Zurich", suffix: "AG", tld: "ch", weight: 5},
	{code: "GB", region: "UK & Ireland", zone: "Europe/London", suffix: "Ltd", tld: "co.uk", weight: 9, repGroup: 1},
	{code: "IE", region: "UK & Ireland", zone: "Europe/Dublin", suffix: "Ltd", tld: "ie", weight: 1, repGroup: 1},
	{code: "FR", region: "Western Europe", zone: "Europe/Paris", suffix: "SAS", tld: "fr", weight: 8, repGroup: 1},
	{code: "NL", region: "Western Europe", zone: "Europe/Amsterdam", suffix: "B.V.", tld: "nl", weight: 5, repGroup: 1},
	{code: "BE", region: "Western Europe", zone: "Europe/Brussels", suffix: "NV", tld: "be", weight: 2, repGroup: 1},
	{code: "IT", region: "Southern Europe", zone: "Europe/Rome", suffix: "S.p.A.", tld: "it", weight: 8, repGroup: 2},
	{code: "ES", region: "Southern Europe", zone: "Europe/Madrid", suffix: "S.L.", tld: "es", weight: 5, repGroup: 2},
	{code: "SE", region: "Nordics", zone: "Europe/Stockholm", suffix: "AB", tld: "se", weight: 4, repGroup: 3},
	{code: "DK", region: "Nordics", zone: "Europe/Copenhagen", suffix: "A/S", tld: "dk", weight: 2, repGroup: 3},
	{code: "FI", region: "Nordics", zone: "Europe/Helsinki", suffix: "Oy", tld: "fi", weight: 1, repGroup: 3},
	{code: "PL", region: "Central & Eastern Europe", zone: "Europe/Warsaw", suffix: "Sp. z o.o.", tld: "pl", weight: 5, repGroup: 3},
	{code: "CZ", region: "Central & Eastern Europe", zone: "Europe/Prague", suffix: "s.r.o.", tld: "cz", weight: 2, repGroup: 3},
	{code: "US", region: "North America", zone: "America/Chicago", suffix: "Inc.", tld: "com", weight: 8, na: true, repGroup: 4},
	{code: "US", region: "North America", zone: "America/New_York", suffix: "Corp.", tld: "com", weight: 7, na: true, repGroup: 4},
	{code: "US", region: "North America", zone: "America/Los_Angeles", suffix: "Inc.", tld: "com", weight: 3, na: true, repGroup: 4},
	{code: "CA", region: "North America", zone: "America/Toronto", suffix: "Ltd.", tld: "ca", weight: 2, na: true, repGroup: 4},
}

// salesReps by country rep group.
var salesReps = [][]string{
	{"m.keller", "s.hoffmann", "t.wagner"},
	{"j.clarke", "a.dubois"},
	{"l.romano", "c.garcia"},
	{"e.lindqvist", "p.nowak"},
	{"r.miller", "k.johnson", "d.nguyen"},
}

// Buying-committee roles and the titles people hold in them.
var roles = []string{"engineering", "procurement", "management", "service", "operations"}

var roleTitles = [][]string{
	{"Head of Engineering", "Process Engineer", "Automation Engineer", "R&D Manager"},
	{"Strategic Buyer", "Head of Procurement", "Purchasing Manager"},
	{"Managing Director", "Plant Manager", "CFO", "COO"},
	{"Maintenance Manager", "Service Lead", "Reliability Engineer"},
	{"Production Manager", "Operations Director", "Shift Supervisor"},
}

var firstNames = []string{
	"anna", "lukas", "sophie", "jonas", "marie", "felix", "emma", "paul", "laura", "david", "sarah", "tom",
	"julia", "max", "elena", "marco", "chiara", "pierre", "camille", "james", "olivia", "erik", "ingrid",
	"piotr", "katarzyna", "jan", "lena", "noah", "mia", "liam", "ava", "lucas", "isabel", "matteo",
}

var lastNames = []string{
	"mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "rossi", "bianchi",
	"martin", "bernard", "smith", "jones", "taylor", "brown", "andersson", "johansson", "nowak", "kowalski",
	"garcia", "lopez", "dvorak", "jansen", "devries", "miller", "wilson", "moore", "clark", "lewis",
}

// Equipment lines.
var equipment = []string{"CNC-5X machining centre", "RX-700 robot cell", "PL-3000 packaging line", "AX-200 assembly line", "LX laser cutting system"}

var lostReasons = []string{"price", "competitor", "no budget", "timing", "no decision", "technical fit"}
var lostWeights = cumulative(28, 24, 16, 14, 12, 6)

var whitepapers = []string{"tco-of-5-axis-machining", "predictive-maintenance-playbook", "robot-cell-roi-guide", "energy-efficient-packaging", "retrofit-vs-replace"}

var b2bNPSComments = [3][]string{
	{"Spare parts take far too long to arrive.", "Commissioning was delayed by six weeks.", "Service response times are not acceptable for a 24/7 plant.", "The HMI software is hard to use for our operators.", "Too many unplanned stops in the first year."},
	{"Solid machine, but the documentation could be better.", "Good support, expensive spare parts.", "Works as promised; training was short.", "Service is fine, the portal is clunky."},
	{"Uptime has been excellent since installation.", "The service technicians are outstanding.", "Best investment in our line this decade.", "Fast, competent support and a reliable machine.", "Payback came faster than the ROI calculator said."},
}

// B2C lists.

// b2cCountry is where a B2C user lives.
type b2cCountry struct {
	code, zone string
	weight     float64
	z          *zone
}

var b2cCountries = []b2cCountry{
	{code: "US", zone: "America/New_York", weight: 24},
	{code: "US", zone: "America/Chicago", weight: 14},
	{code: "US", zone: "America/Denver", weight: 5},
	{code: "US", zone: "America/Los_Angeles", weight: 14},
	{code: "CA", zone: "America/Toronto", weight: 6},
	{code: "GB", zone: "Europe/London", weight: 12},
	{code: "DE", zone: "Europe/Berlin", weight: 7},
	{code: "AU", zone: "Australia/Sydney", weight: 6},
	{code: "IE", zone: "Europe/Dublin", weight: 2},
	{code: "NL", zone: "Europe/Amsterdam", weight: 3},
	{code: "BR", zone: "America/Sao_Paulo", weight: 7},
}

var goals = []string{"lose-weight", "build-strength", "flexibility", "endurance", "stress-relief"}
var goalWeights = cumulative(34, 26, 16, 14, 10)

var workouts = []struct {
	name string
	min  int
}{
	{"hiit-20", 20}, {"full-body-strength", 35}, {"core-blast", 15}, {"morning-yoga", 25}, {"mobility-flow", 18},
	{"lower-body-burn", 30}, {"upper-body-sculpt", 28}, {"cardio-dance", 32}, {"pilates-basics", 26},
	{"run-intervals", 40}, {"kettlebell-30", 30}, {"stretch-and-relax", 12}, {"boxing-cardio", 27}, {"abs-10", 10},
}

var b2cNPSComments = [3][]string{
	{"Too expensive for what it is.", "The app keeps crashing during workouts.", "Not enough new content.", "Cancelling was harder than it should be.", "Workouts are too hard for beginners."},
	{"Good workouts, but the app is slow sometimes.", "I like it, wish there were more yoga classes.", "Nice, but I keep forgetting to use it.", "Decent value."},
	{"The 30-day challenge changed my routine!", "Best home-workout app I've tried.", "Love the trainers and the variety.", "Short workouts that actually fit my day.", "My whole family uses it now."},
}

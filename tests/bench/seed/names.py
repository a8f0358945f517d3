"""Fixed vocabularies for believable made-up people, places and organisations.

Surnames carry rough US frequencies (per 100,000 people, 2010 census order of magnitude),
so a search for a common name ("martinez", "nguyen") finds hundreds in the largest
district and a rare one a handful. Nobody here is a real person; addresses, email
domains (example.org and friends) and phone numbers (555-01xx) are reserved for fiction.
"""

from __future__ import annotations

# (surname, weight); Hispanic surnames are marked in HISPANIC_SURNAMES below.
# fmt: off
SURNAMES: list[tuple[str, int]] = [
    ("Smith", 828), ("Johnson", 655), ("Williams", 550), ("Brown", 488), ("Jones", 477),
    ("Garcia", 386), ("Miller", 384), ("Davis", 362), ("Rodriguez", 350), ("Martinez", 349),
    ("Hernandez", 342), ("Lopez", 292), ("Gonzalez", 283), ("Wilson", 267), ("Anderson", 262),
    ("Thomas", 254), ("Taylor", 251), ("Moore", 240), ("Jackson", 235), ("Martin", 234),
    ("Lee", 229), ("Perez", 225), ("Thompson", 224), ("White", 222), ("Harris", 206),
    ("Sanchez", 205), ("Clark", 185), ("Ramirez", 184), ("Lewis", 177), ("Robinson", 177),
    ("Walker", 172), ("Young", 165), ("Allen", 164), ("King", 161), ("Wright", 159),
    ("Scott", 149), ("Torres", 146), ("Nguyen", 145), ("Hill", 145), ("Flores", 143),
    ("Green", 142), ("Adams", 142), ("Nelson", 141), ("Baker", 139), ("Hall", 138),
    ("Rivera", 134), ("Campbell", 129), ("Mitchell", 127), ("Carter", 126), ("Roberts", 126),
    ("Gomez", 119), ("Phillips", 117), ("Evans", 116), ("Turner", 115), ("Diaz", 115),
    ("Parker", 113), ("Cruz", 113), ("Edwards", 112), ("Collins", 112), ("Reyes", 111),
    ("Stewart", 110), ("Morris", 107), ("Morales", 107), ("Murphy", 104), ("Cook", 104),
    ("Rogers", 103), ("Gutierrez", 102), ("Ortiz", 101), ("Morgan", 100), ("Cooper", 99),
    ("Peterson", 99), ("Bailey", 98), ("Reed", 98), ("Kelly", 97), ("Howard", 96),
    ("Ramos", 96), ("Kim", 95), ("Cox", 94), ("Ward", 94), ("Richardson", 93),
    ("Watson", 92), ("Brooks", 92), ("Chavez", 92), ("Wood", 91), ("James", 91),
    ("Bennett", 90), ("Gray", 90), ("Mendoza", 90), ("Ruiz", 89), ("Hughes", 88),
    ("Price", 88), ("Alvarez", 88), ("Castillo", 87), ("Sanders", 87), ("Patel", 86),
    ("Myers", 86), ("Long", 85), ("Ross", 85), ("Foster", 85), ("Jimenez", 84),
    ("Powell", 83), ("Jenkins", 83), ("Perry", 82), ("Russell", 82), ("Sullivan", 81),
    ("Bell", 81), ("Coleman", 81), ("Butler", 80), ("Henderson", 80), ("Barnes", 80),
    ("Gonzales", 79), ("Fisher", 79), ("Vasquez", 78), ("Simmons", 77), ("Romero", 77),
    ("Jordan", 77), ("Patterson", 77), ("Alexander", 76), ("Hamilton", 76), ("Graham", 75),
    ("Reynolds", 75), ("Griffin", 75), ("Wallace", 75), ("Moreno", 74), ("West", 74),
    ("Cole", 74), ("Hayes", 73), ("Bryant", 73), ("Herrera", 73), ("Gibson", 72),
    ("Ellis", 72), ("Tran", 72), ("Medina", 72), ("Aguilar", 71), ("Stevens", 71),
    ("Murray", 71), ("Ford", 70), ("Castro", 70), ("Marshall", 70), ("Owens", 70),
    ("Harrison", 69), ("Fernandez", 69), ("McDonald", 69), ("Woods", 69), ("Washington", 69),
    ("Kennedy", 68), ("Wells", 68), ("Vargas", 67), ("Henry", 67), ("Chen", 67),
    ("Freeman", 67), ("Webb", 66), ("Tucker", 66), ("Guzman", 66), ("Burns", 66),
    ("Crawford", 66), ("Olson", 66), ("Simpson", 65), ("Porter", 65), ("Hunter", 65),
    ("Gordon", 65), ("Mendez", 65), ("Silva", 65), ("Shaw", 65), ("Snyder", 64),
    ("Mason", 64), ("Dixon", 63), ("Munoz", 63), ("Hunt", 63), ("Hicks", 62),
    ("Holmes", 62), ("Palmer", 62), ("Wagner", 62), ("Black", 62), ("Robertson", 61),
    ("Boyd", 61), ("Rose", 61), ("Stone", 60), ("Salazar", 60), ("Fox", 60),
    ("Warren", 60), ("Mills", 59), ("Meyer", 59), ("Rice", 59), ("Schmidt", 59),
    ("Garza", 59), ("Daniels", 59), ("Ferguson", 58), ("Nichols", 58), ("Stephens", 58),
    ("Soto", 58), ("Weaver", 58), ("Ryan", 58), ("Gardner", 58), ("Payne", 57),
    ("Grant", 57), ("Dunn", 57), ("Kelley", 56), ("Spencer", 56), ("Hawkins", 56),
    ("Arnold", 56), ("Pierce", 55), ("Vazquez", 55), ("Hansen", 55), ("Peters", 55),
    ("Santos", 55), ("Hart", 55), ("Bradley", 54), ("Knight", 54), ("Elliott", 54),
    ("Cunningham", 54), ("Duncan", 54), ("Armstrong", 54), ("Hudson", 54), ("Carroll", 53),
    ("Lane", 53), ("Riley", 53), ("Andrews", 53), ("Alvarado", 53), ("Ray", 53),
    ("Delgado", 52), ("Berry", 52), ("Perkins", 52), ("Hoffman", 52), ("Johnston", 52),
    ("Matthews", 51), ("Pena", 51), ("Richards", 51), ("Contreras", 51), ("Willis", 51),
    ("Carpenter", 50), ("Lawrence", 50), ("Sandoval", 50), ("Guerrero", 49), ("Estrada", 48),
    ("Ibarra", 30), ("Navarro", 40), ("Rios", 45), ("Dominguez", 44), ("Cervantes", 30),
    ("Valdez", 42), ("Ochoa", 30), ("Zamora", 28), ("Trujillo", 27), ("Camacho", 28),
    ("Acosta", 35), ("Cardenas", 32), ("Espinoza", 36), ("Fuentes", 30), ("Padilla", 33),
    ("Velazquez", 28), ("Zavala", 20), ("Barrera", 25), ("Rojas", 30), ("Solis", 30),
    # A tail of less common names, as in any real roster.
    ("Pham", 40), ("Le", 45), ("Huang", 35), ("Wang", 45), ("Zhang", 35), ("Liu", 35),
    ("Yang", 40), ("Vang", 20), ("Xiong", 18), ("Singh", 38), ("Shah", 22), ("Khan", 25),
    ("Ali", 28), ("Ahmed", 25), ("Mohamed", 24), ("Hussein", 14), ("Abdi", 10),
    ("Haddad", 8), ("Okafor", 6), ("Adeyemi", 6), ("Mensah", 6), ("Diallo", 7),
    ("Baptiste", 10), ("Pierre", 18), ("Joseph", 30), ("Jean", 14), ("Kowalski", 12),
    ("Nowak", 10), ("Novak", 10), ("Schneider", 18), ("Larson", 30), ("Lindqvist", 3),
    ("O'Brien", 20), ("O'Connor", 16), ("McCarthy", 20), ("Rossi", 8), ("Russo", 14),
    ("Esposito", 10), ("Romano", 10), ("Dubois", 5), ("Nakamura", 6), ("Tanaka", 6),
    ("Park", 35), ("Choi", 18), ("Yoon", 8), ("Santiago", 30), ("Mejia", 28),
    ("Nunez", 30), ("Sosa", 28), ("Cabrera", 25), ("Figueroa", 28), ("Vega", 35),
    ("Smith-Jones", 2), ("Garcia-Lopez", 2), ("Van Dyke", 4), ("St. Clair", 3), ("De la Cruz", 8),
]
# fmt: on

# fmt: off
HISPANIC_SURNAMES = frozenset([
    "Acosta", "Aguilar", "Alvarado", "Alvarez", "Barrera", "Cabrera", "Camacho", "Cardenas",
    "Castillo", "Castro", "Cervantes", "Chavez", "Contreras", "Cruz", "De la Cruz", "Delgado",
    "Diaz", "Dominguez", "Espinoza", "Estrada", "Fernandez", "Figueroa", "Flores", "Fuentes",
    "Garcia", "Garcia-Lopez", "Garza", "Gomez", "Gonzales", "Gonzalez", "Guerrero", "Gutierrez",
    "Guzman", "Hernandez", "Herrera", "Ibarra", "Jimenez", "Lopez", "Martinez", "Medina", "Mejia",
    "Mendez", "Mendoza", "Morales", "Moreno", "Munoz", "Navarro", "Nunez", "Ochoa", "Ortiz",
    "Padilla", "Pena", "Perez", "Ramirez", "Ramos", "Reyes", "Rios", "Rivera", "Rodriguez",
    "Rojas", "Romero", "Ruiz", "Salazar", "Sanchez", "Sandoval", "Santiago", "Santos", "Silva",
    "Solis", "Sosa", "Soto", "Torres", "Trujillo", "Valdez", "Vargas", "Vasquez", "Vazquez",
    "Vega", "Velazquez", "Zamora", "Zavala",
])
# fmt: on

# First names of children born 2007-2021, commonest first (weights fall with the rank).
# fmt: off
BOYS = [
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry",
    "Theodore", "Jack", "Levi", "Alexander", "Jackson", "Mateo", "Daniel", "Michael", "Mason",
    "Sebastian", "Ethan", "Logan", "Owen", "Samuel", "Jacob", "Asher", "Aiden", "John", "Joseph",
    "Wyatt", "David", "Leo", "Luke", "Julian", "Hudson", "Grayson", "Matthew", "Ezra", "Gabriel",
    "Carter", "Isaac", "Jayden", "Luca", "Anthony", "Dylan", "Lincoln", "Thomas", "Elias",
    "Josiah", "Charles", "Caleb", "Christopher", "Ezekiel", "Miles", "Isaiah", "Andrew", "Joshua",
    "Nathan", "Nolan", "Adrian", "Cameron", "Santiago", "Eli", "Aaron", "Ryan", "Angel", "Cooper",
    "Easton", "Kai", "Christian", "Landon", "Colton", "Roman", "Axel", "Brooks", "Jonathan",
    "Robert", "Jameson", "Ian", "Everett", "Wesley", "Jeremiah", "Hunter", "Leonardo", "Jordan",
    "Jose", "Bennett", "Silas", "Nicholas", "Parker", "Weston", "Austin", "Connor", "Carson",
    "Dominic", "Xavier", "Jace", "Emmett", "Adam", "Declan", "Rowan", "Micah", "Kayden", "Gael",
    "Ryder", "Damian", "Sawyer", "Evan", "Vincent", "Myles", "Harrison", "August", "Bryson",
    "Amir", "Giovanni", "Chase", "Diego", "Milo", "Jasper", "Jason", "Brayden", "Cole",
    "Nathaniel", "George", "Lorenzo", "Zion", "Luis", "Enzo", "Jonah", "Thiago", "Theo", "Ayden",
    "Zachary", "Calvin", "Ashton", "Jude", "Carlos", "Tyler", "Max", "Elliot", "Graham", "Kaiden",
    "Maxwell", "Juan", "Dean", "Malachi", "Ivan", "Jesus", "Emiliano", "Gavin", "Camden", "Hayden",
    "Leon", "Antonio", "Justin", "Brandon", "Kevin", "Finn", "Brody", "Nicolas", "Charlie",
    "Felix", "Alex", "Miguel", "Abel", "Alan", "Timothy", "Abraham", "Jesse", "Blake", "Alejandro",
    "Tristan", "Victor", "Joel", "Eric", "Patrick", "Peter", "Richard", "Edward", "Andres",
    "Emilio", "Marcus", "Oscar", "Israel", "Steven", "Rafael", "Jeremy", "Javier", "Bryce", "Mark",
    "Paul", "Kenneth", "Mario", "Jorge", "Eduardo", "Francisco", "Fernando", "Ricardo", "Manuel",
    "Pedro", "Sergio", "Rodrigo", "Cristian", "Omar", "Ahmed", "Mohamed", "Yusuf", "Minh", "Duc",
    "Arjun", "Aarav", "Kenji", "Darius", "Malik", "Jamal", "DeShawn", "Tyrone", "Andre", "Terrell",
]
# fmt: on

# fmt: off
GIRLS = [
    "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Mia", "Isabella", "Ava", "Evelyn", "Luna",
    "Harper", "Sofia", "Camila", "Eleanor", "Elizabeth", "Violet", "Scarlett", "Emily", "Hazel",
    "Lily", "Gianna", "Aurora", "Penelope", "Aria", "Nora", "Chloe", "Ellie", "Mila", "Avery",
    "Layla", "Abigail", "Ella", "Isla", "Eliana", "Nova", "Madison", "Zoe", "Ivy", "Grace", "Lucy",
    "Willow", "Emilia", "Riley", "Naomi", "Victoria", "Stella", "Elena", "Hannah", "Valentina",
    "Maya", "Zoey", "Delilah", "Leah", "Lillian", "Paisley", "Genesis", "Madelyn", "Sadie",
    "Sophie", "Leilani", "Addison", "Natalie", "Josephine", "Alice", "Ruby", "Claire", "Kinsley",
    "Everly", "Emery", "Adeline", "Kennedy", "Maeve", "Audrey", "Autumn", "Athena", "Eden", "Iris",
    "Anna", "Eloise", "Jade", "Maria", "Caroline", "Brooklyn", "Quinn", "Aaliyah", "Vivian",
    "Liliana", "Gabriella", "Hailey", "Sarah", "Savannah", "Cora", "Madeline", "Natalia", "Ariana",
    "Lydia", "Lyla", "Clara", "Allison", "Aubrey", "Millie", "Melody", "Ayla", "Serenity", "Bella",
    "Skylar", "Josie", "Lucia", "Daisy", "Eva", "Juniper", "Samantha", "Elliana", "Ximena",
    "Valeria", "Daniela", "Mariana", "Alejandra", "Guadalupe", "Jimena", "Fernanda", "Andrea",
    "Isabel", "Catalina", "Adriana", "Gabriela", "Esmeralda", "Jasmine", "Destiny", "Diana",
    "Alexa", "Leslie", "Kimberly", "Jocelyn", "Ashley", "Jessica", "Jennifer", "Stephanie",
    "Vanessa", "Nevaeh", "Brianna", "Kayla", "Makayla", "Taylor", "Morgan", "Alyssa", "Sydney",
    "Trinity", "Faith", "Mackenzie", "Mya", "Amaya", "Imani", "Zuri", "Amara", "Nia", "Fatima",
    "Aisha", "Mariam", "Priya", "Ananya", "Mei", "Linh", "Yesenia", "Itzel", "Karla", "Paola",
    "Julissa", "Marisol",
]
# fmt: on

# First names that lean Hispanic: a student with a Hispanic surname gets one half the time.
# fmt: off
HISPANIC_FIRST = [
    "Mateo", "Santiago", "Jose", "Diego", "Luis", "Carlos", "Juan", "Jesus", "Emiliano", "Miguel",
    "Alejandro", "Andres", "Emilio", "Rafael", "Javier", "Jorge", "Eduardo", "Francisco",
    "Fernando", "Ricardo", "Manuel", "Pedro", "Sergio", "Rodrigo", "Cristian", "Angel", "Gael",
    "Thiago", "Adrian", "Sofia", "Camila", "Valentina", "Lucia", "Ximena", "Valeria", "Daniela",
    "Mariana", "Alejandra", "Guadalupe", "Jimena", "Fernanda", "Andrea", "Isabel", "Catalina",
    "Adriana", "Gabriela", "Esmeralda", "Maria", "Natalia", "Genesis", "Yesenia", "Itzel", "Karla",
    "Paola", "Julissa", "Marisol", "Jocelyn", "Leslie",
]
# fmt: on

# Preferred names a few students go by.
# fmt: off
NICKNAMES = {
    "William": "Will", "Benjamin": "Ben", "Alexander": "Alex", "Christopher": "Chris",
    "Daniel": "Danny", "Elizabeth": "Liz", "Jonathan": "Jon", "Nicholas": "Nick",
    "Samantha": "Sam", "Samuel": "Sam", "Matthew": "Matt", "Joshua": "Josh", "Zachary": "Zach",
    "Alejandro": "Alex", "Francisco": "Paco", "Guadalupe": "Lupe", "Jesus": "Chuy",
    "Gabriella": "Gabby", "Gabriela": "Gaby", "Abigail": "Abby", "Katherine": "Kate",
    "Madison": "Maddie", "Victoria": "Tori", "Theodore": "Teddy", "Maxwell": "Max",
    "Jacob": "Jake", "Anthony": "Tony", "Michael": "Mike", "Isabella": "Bella",
    "Penelope": "Penny", "Josephine": "Josie", "Eleanor": "Nora", "Robert": "Bobby",
    "Andrew": "Drew", "Timothy": "Tim", "Mohamed": "Mo", "Natalia": "Nati",
}
# fmt: on

# Adults: guardians, staff, partner contacts.
# fmt: off
ADULT_FIRST = [
    "Maria", "Jennifer", "Jessica", "Ashley", "Sarah", "Amanda", "Melissa", "Nicole", "Stephanie",
    "Elizabeth", "Heather", "Michelle", "Rebecca", "Laura", "Angela", "Christina", "Kimberly",
    "Amy", "Lisa", "Rachel", "Erin", "Veronica", "Rosa", "Ana", "Guadalupe", "Claudia", "Patricia",
    "Carmen", "Yesenia", "Leticia", "Araceli", "Monica", "Sandra", "Latoya", "Tamika", "Keisha",
    "Mai", "Fatuma", "Halima", "Tanya", "Grace", "Ewa", "Lucia", "Elena", "Siobhan", "Minh",
    "Marta", "Michael", "Christopher", "Matthew", "Joshua", "David", "James", "Daniel", "Robert",
    "John", "Joseph", "Jason", "Justin", "Andrew", "Ryan", "William", "Brian", "Jonathan",
    "Brandon", "Kevin", "Eric", "Juan", "Jose", "Luis", "Carlos", "Jorge", "Miguel", "Antonio",
    "Francisco", "Jesus", "Alejandro", "Marcus", "Darnell", "Terrence", "Andre", "Tuan", "Abdi",
    "Mohamed", "Ahmed", "Ravi", "Anil", "Kenji", "Wei", "Omar", "Yusuf", "Devon", "Casey",
    "Jordan", "Taylor", "Morgan", "Jamie", "Dana",
]
# fmt: on

# Named schools: people, places and things US districts name schools after.
# fmt: off
NAMESAKES = [
    "Lincoln", "Washington", "Jefferson", "Roosevelt", "Franklin", "Kennedy", "Madison", "Adams",
    "Jackson", "Monroe", "Grant", "Wilson", "Hamilton", "Douglass", "Tubman", "Parks", "King",
    "Chavez", "Huerta", "Keller", "Earhart", "Edison", "Whitman", "Emerson", "Thoreau",
    "Hawthorne", "Longfellow", "Twain", "Dickinson", "Hughes", "Angelou", "Morrison", "Carver",
    "Banneker", "Marshall", "Obama", "Clemente", "Sotomayor", "Mistral", "Juarez", "Hale",
    "Revere", "Audubon", "Muir", "Burbank", "Curie", "Einstein", "Galileo", "Newton", "Ride",
    "Armstrong", "Glenn", "Jemison", "Clark", "Lewis", "Sacagawea", "Pike", "Boone", "Houston",
    "Austin", "Crockett", "Bowie", "Travis", "Lamar", "Sherman", "Lee", "Grayson", "Hayes",
    "Garfield", "Harding", "Coolidge", "Hoover", "Truman", "Eisenhower", "Johnson", "Carter",
    "Reagan", "Fulton", "Morse", "Bell", "Ford", "Wright", "Brandeis", "Mann", "Dewey",
    "Montessori", "Addams", "Hull", "Du Bois", "Bethune", "Robinson", "Owens", "Ali", "Aaron",
    "Mays", "Ashe", "Thorpe", "Oakwood", "Maplewood", "Pinecrest", "Cedarbrook", "Willow Creek",
    "Riverside", "Lakeview", "Hillcrest", "Fairview", "Meadowbrook", "Sunnyside", "Brookside",
    "Highland", "Parkview", "Valley", "Forest Glen", "Prairie Ridge", "Westwood", "Eastwood",
    "Northwood", "Southwood", "Greenfield", "Springfield", "Oak Grove", "Elm Street",
    "Walnut Hills", "Birch", "Aspen", "Sycamore", "Magnolia", "Cypress", "Redwood", "Sequoia",
    "Evergreen", "Summit", "Horizon", "Pioneer", "Frontier", "Heritage", "Liberty", "Independence",
    "Freedom", "Unity", "Harmony", "Discovery", "Explorer", "Vista", "Mesa", "Canyon", "Bayside",
    "Harbor", "Seaside", "Clearwater", "Stonebridge", "Millbrook", "Foxhollow", "Deer Park",
    "Eagle Ridge", "Falcon", "Hawthorn", "Kingsley", "Ashford", "Brentwood", "Kensington",
    "Sheridan", "Taft", "Polk", "Tyler", "Pierce", "Cleveland", "Arthur", "Hayden", "Irving",
    "Poe", "Frost", "Sandburg", "Steinbeck", "Cather", "Alcott", "Baldwin", "Ellington",
    "Gershwin", "Copland", "Joplin", "Lange", "Kahlo", "Rivera", "Dali", "Picasso", "Monet",
    "Rockwell", "O'Keeffe",
]
# fmt: on
COMPASS = ["North", "South", "East", "West", "Central", "Upper", "Lower", "New", "Old"]

# (state, time zone, area codes, self-consent age for outpatient mental health care)
STATES = [
    ("IL", "America/Chicago", ("312", "630", "815", "217"), 12),
    ("TX", "America/Chicago", ("512", "214", "713", "915"), 18),
    ("CA", "America/Los_Angeles", ("916", "510", "209", "559"), 12),
    ("WA", "America/Los_Angeles", ("360", "509", "253"), 13),
    ("NY", "America/New_York", ("518", "315", "607"), 18),
    ("OH", "America/New_York", ("614", "937", "330"), 14),
    ("GA", "America/New_York", ("404", "706", "912"), 18),
    ("FL", "America/New_York", ("407", "352", "850"), 18),
    ("NC", "America/New_York", ("919", "336", "828"), 18),
    ("MI", "America/Detroit", ("517", "616", "989"), 14),
    ("MN", "America/Chicago", ("612", "507", "218"), 16),
    ("CO", "America/Denver", ("303", "719", "970"), 12),
    ("NM", "America/Denver", ("505", "575"), 14),
    ("AZ", "America/Phoenix", ("602", "520", "928"), 18),
    ("AK", "America/Anchorage", ("907",), 18),
    ("HI", "Pacific/Honolulu", ("808",), 14),
]
STATE_WEIGHTS = [8, 8, 10, 4, 7, 5, 5, 6, 5, 4, 3, 3, 2, 3, 1, 1]

TOWNS = """Cedar Falls, Maple Grove, Brookfield, Fairview, Georgetown, Riverton, Oak Ridge,
Clearwater, Springdale, Mount Vernon, Ashland, Bristol, Centerville, Clinton, Dayton Springs,
Franklin Park, Greenville, Hudson Valley, Jamestown, Kingston, Lakewood, Milford, Newport,
Oxford, Pleasant Hill, Quincy, Richmond Heights, Salem, Troy, Union City, Vista Verde,
Westfield, Woodland, Yorktown, Alder Creek, Bay Point, Canyon Ridge, Deer Valley, Eagle Pass,
Fox River, Granite Falls, Hazelwood, Iron Mountain, Juniper Hills, Kettle Falls, Lone Pine,
Marble Rock, North Bend, Orchard Park, Pine Bluff, Red Oak, Silver Lake, Three Rivers,
Twin Peaks, Walnut Creek, Willow Springs, Rio Bravo, Las Palmas, San Gabriel Valley,
Crescent City""".replace("\n", " ").split(", ")
TOWNS = [town.strip() for town in TOWNS]
DISTRICT_KINDS = [
    ("{town} Unified School District", "usd"),
    ("{town} Public Schools", "ps"),
    ("{town} Independent School District", "isd"),
    ("{town} Community School District", "csd"),
    ("{town} Area School District", "asd"),
    ("{town} County Schools", "cs"),
]

# fmt: off
STREETS = [
    "Main", "Oak", "Maple", "Cedar", "Elm", "Park", "Washington", "Lake", "Hill", "Pine", "Church",
    "River", "Spring", "Center", "Market", "Union", "Franklin", "Highland", "Jefferson", "Mill",
    "Ridge", "Grove", "Madison", "Sunset", "Walnut", "Chestnut", "Lincoln", "Broadway", "College",
    "Prairie",
]
# fmt: on
STREET_KINDS = ["Street", "Avenue", "Road", "Boulevard", "Drive", "Lane", "Way", "Court"]

# Family languages as ISO 639 codes (core/languages.py): mostly English and Spanish, then
# a tail (Vietnamese, Arabic, Chinese, Somali, Hmong, Haitian Creole, Tagalog, ... K'iche').
# fmt: off
LANGUAGE_TAIL = [
    ("vi", 9), ("ar", 8), ("zh", 7), ("so", 4), ("hmn", 3),
    ("ht", 3), ("tl", 4), ("ru", 3), ("pt", 3), ("ko", 3),
    ("pl", 3), ("uk", 2), ("ur", 3), ("gu", 2), ("am", 2),
    ("fr", 2), ("ne", 2), ("sw", 1), ("ps", 1), ("quc", 1),
]
# fmt: on

GUARDIAN_DOMAINS = ["example.com", "example.net", "example.org", "mail.example.com"]

USER_AGENTS = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        40,
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        25,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        15,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
        10,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Mobile/15E148 Safari/604.1",
        5,
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 5),
]

# --- Partners ----------------------------------------------------------------------------------

PARTNER_PREFIXES = """Hope|Bright Futures|New Horizons|Open Door|Pathways|Compass|Beacon|Lighthouse|
Harmony|Kindred|Evergreen|Sunrise|Cornerstone|Bridges|Anchor|Haven|Thrive|Rise|Roots|
Common Ground|Safe Harbor|Second Chance|Wellspring|True North|Together|Unity|Guiding Light|
Nuevo Amanecer|La Esperanza|Mi Familia|Familias Unidas|Aspire|Elevate|Blue Sky|Clear Path|
Steppingstone|Heartland|Riverbend|Northstar|Greenleaf|Oak Tree|Willow|Cedar|Summit|Keystone|
Pinnacle|Sojourn|Mosaic|Kinship|Circle of Care|Little Steps|Youth First|Families First|
Open Arms|Helping Hands|Caring Hearts|Stand Up|Lifeline|Fresh Start|Brightside|Wayfinder|
Trailhead|Heron|Lantern|Meridian|Solstice|Tidewater|Prairie Wind|Cardinal|Magnolia""".replace(
    "\n", ""
).split("|")

# fmt: off
PARTNER_SUFFIXES = {
    "mental_health": [
        "Counseling Center", "Behavioral Health", "Family Counseling", "Child & Family Services",
        "Mental Health Services", "Therapy Group", "Psychological Services", "Wellness Center",
        "Counseling Associates", "Youth & Family Therapy", "Clinical Services",
        "Trauma Recovery Center",
    ],
    "social_services": [
        "Family Services", "Community Services", "Food Pantry", "Housing Alliance",
        "Community Action Agency", "Family Resource Center", "Outreach",
        "Community Resource Network",
    ],
    "healthcare": [
        "Community Health Center", "Pediatrics", "Health Clinic", "Medical Group",
        "Family Health", "School-Based Health Center",
    ],
    "youth": [
        "Youth Mentoring", "Boys & Girls Club", "Youth Center", "After-School Program",
        "Youth Alliance", "Mentors", "Youth Sports League", "Arts for Youth",
        "Youth Leadership Program",
    ],
    "faith_cultural": [
        "Community Church Outreach", "Cultural Center", "Latino Family Center",
        "Asian American Family Services", "African Community Center",
        "Refugee & Immigrant Services", "Centro Comunitario", "Interfaith Youth Project",
    ],
    "other": [
        "Literacy Council", "Legal Aid", "Tutoring Center", "Workforce Partnership",
        "Library Teen Services", "Recreation Center", "Foundation",
    ],
}
# fmt: on

PARTNER_KINDS = [
    ("mental_health", 40),
    ("social_services", 20),
    ("healthcare", 10),
    ("youth", 15),
    ("faith_cultural", 8),
    ("other", 7),
]

# fmt: off
CATEGORIES_BY_KIND = {
    "mental_health": [
        "counselling_individual", "counselling_group", "therapy", "crisis_intervention",
        "psychiatric_care", "substance_use", "family_support",
    ],
    "social_services": ["food_assistance", "housing", "emergency_aid", "family_support"],
    "healthcare": ["health_screening", "psychiatric_care", "substance_use", "therapy"],
    "youth": ["mentoring", "after_school", "peer_support"],
    "faith_cultural": ["cultural_liaison", "family_support", "food_assistance", "mentoring"],
    "other": ["other", "after_school", "family_support"],
}
# fmt: on

# fmt: off
SERVICE_NAMES = {
    "counselling_individual": [
        "School-based individual counseling", "Short-term counseling",
        "Solution-focused counseling", "",
    ],
    "counselling_group": ["Social skills group", "Grief group", "Anxiety management group", ""],
    "therapy": ["Cognitive behavioral therapy", "Trauma-focused CBT", "Play therapy", ""],
    "crisis_intervention": ["Mobile crisis response", "Crisis assessment", ""],
    "psychiatric_care": ["Medication management", "Psychiatric evaluation", ""],
    "substance_use": ["Substance use assessment", "Teen recovery group", ""],
    "food_assistance": ["Weekend food bags", "Family pantry", "Mobile market", ""],
    "housing": ["Rental assistance", "Homeless family liaison", ""],
    "emergency_aid": ["Emergency clothing", "Utility assistance", ""],
    "health_screening": ["Vision and hearing screening", "Sports physicals", ""],
    "mentoring": ["One-to-one mentoring", "Group mentoring", ""],
    "after_school": ["Homework club", "Arts and athletics", ""],
    "peer_support": ["Peer support circle", "Teen peer mentors", ""],
    "family_support": ["Parent education", "Family navigation", ""],
    "cultural_liaison": ["Newcomer family liaison", "Interpretation at school meetings", ""],
    "other": ["Tutoring", "Legal consultations", ""],
}
# fmt: on

# A district's own service categories (ServiceCategory): code, name.
DISTRICT_CATEGORIES = [
    ("grief_support", "Grief and loss support"),
    ("attendance", "Attendance and re-engagement"),
    ("newcomer_support", "Newcomer family support"),
    ("suicide_prevention", "Suicide prevention training"),
]

# fmt: off
CONTACT_TITLES = {
    "intake": ["Intake Coordinator", "Referral Coordinator", "Care Coordinator"],
    "leadership": ["Executive Director", "Program Director", "Clinical Director",
                   "Director of School Partnerships"],
    "billing": ["Billing Manager", "Finance Director", "Office Manager"],
}
# fmt: on

TERMINATION_REASONS = [
    "The partner closed its school-based program.",
    "Staffing shortages: the partner could not cover the schools.",
    "Replaced by a district-wide agreement.",
    "The grant that paid for the services ended.",
    "Referral responses were repeatedly late; both parties agreed to end the agreement.",
]

FUNDERS = [
    ("grant", "U.S. Department of Education: School-Based Mental Health Services Grant"),
    ("grant", "SAMHSA Project AWARE"),
    ("grant", "State Department of Education: Student Wellness Grant"),
    ("grant", "{city} Community Foundation"),
    ("grant", "Title IV-A Student Support and Academic Enrichment"),
    ("grant", "Bipartisan Safer Communities Act: Stronger Connections"),
    ("district_budget", "District general fund: student services"),
    ("district_budget", "District general fund: special education"),
    ("donation", "United Way of {city}"),
    ("donation", "{city} Rotary Club"),
    ("donation", "Parent-teacher association"),
    ("in_kind", "County health department: shared clinicians"),
    ("in_kind", "{city} Public Library"),
    ("billing", "Medicaid school-based services"),
    ("billing", "Private insurance billing"),
    ("other", "County behavioral health levy"),
]

GOALS = [
    ("Respond to referrals within the agreed time", 90, "% of referrals", "school year"),
    ("Students served", 120, "students", "school year"),
    ("Group sessions held", 30, "sessions", "semester"),
    ("Families reached with parent education", 60, "families", "school year"),
    ("Students reporting improved wellbeing", 70, "% of students served", "school year"),
    ("Staff trained in the crisis protocol", 100, "% of partner staff", "school year"),
]

# Edits between MOU versions: (section, placeholder or phrase, replacement).
# fmt: off
SECTION_EDITS = [
    ("services", "[days and hours at each school]",
     "Tuesdays and Thursdays, 8:30 a.m. to 3:30 p.m."),
    ("services", "[days and hours at each school]", "Monday to Friday, 9:00 a.m. to 2:00 p.m."),
    ("insurance", "[amount]", "$1,000,000"),
    ("insurance", "[amount]", "$2,000,000"),
    ("costs", "[free of charge / funded by the District / funded by a grant]", "free of charge"),
    ("costs", "[free of charge / funded by the District / funded by a grant]",
     "funded by a grant"),
    ("costs", "[amount and what it pays for, or “none”]", "none"),
    ("evaluation", "[month / quarter]", "quarter"),
    ("evaluation", "[term / quarter]", "term"),
    ("term", "[list any attachments, such as the school schedule or the fee scale]",
     "Attachment A, the school schedule."),
]
# fmt: on

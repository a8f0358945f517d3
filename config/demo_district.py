"""The demo district at the size of a real one: a third school, a few hundred students (so
lists page), a dozen partners of every kind with verified and stale listings, and an
invitation still waiting to be accepted.

Everything is made-up and deterministic (random.Random(15)); a rerun adds nothing and
changes nothing people see: rows are found by their natural keys (a school's name, a
student's local id, a partner's name, the invited address) and left as they are.
"""

from __future__ import annotations

import datetime
import random
import unicodedata
from datetime import timedelta

from django.utils import timezone

from partnerships.models import Partner
from schools.models import Invitation, Membership, Role, School, Student

# name -> (lowest grade, highest grade, state id, NCES id, SIS id). Set when the school is
# created, or on a school made before the demo had them (no SIS id yet).
DEMO_SCHOOL_DETAILS = {
    "Lincoln High School": ("09", "12", "19-99901-1930001", "069990100001", "LHS-101"),
    "Roosevelt Middle School": ("06", "08", "19-99901-6930002", "069990100002", "RMS-102"),
    "Washington Elementary School": ("KG", "05", "19-99901-6930003", "069990100003", "WES-103"),
}
GRADES = ["KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]

# The generated students: D3001 onwards, spread over the schools in turn.
GENERATED_STUDENTS = 282
FIRST_GENERATED_ID = 3001

# (family language, weight, first names, last names, guardians' first names)
NAME_GROUPS = [
    (
        "en",
        34,
        [
            "Olivia",
            "Liam",
            "Ava",
            "Noah",
            "Zoë",
            "Ethan",
            "Harper",
            "Mason",
            "Renée",
            "Caleb",
            "Madison",
            "Jackson",
            "Aaliyah",
            "Elijah",
            "Brooke",
            "Owen",
            "Chloé",
            "Wyatt",
        ],
        [
            "Smith",
            "Johnson",
            "Brown",
            "Davis",
            "Miller",
            "Wilson",
            "Anderson",
            "Thompson",
            "Jackson",
            "White",
            "Harris",
            "Clark",
            "Lewis",
            "Walker",
            "O'Brien",
            "Young",
        ],
        ["Jennifer", "Michael", "Jessica", "David", "Ashley", "Robert", "Nicole", "James"],
    ),
    (
        "es",
        30,
        [
            "Sofía",
            "Mateo",
            "Valentina",
            "Santiago",
            "Camila",
            "Diego",
            "Lucía",
            "Joaquín",
            "Ximena",
            "Andrés",
            "Isabela",
            "Julián",
            "Renata",
            "Sebastián",
            "Daniela",
            "Emilio",
        ],
        [
            "Hernández",
            "Martínez",
            "Rodríguez",
            "González",
            "Pérez",
            "Ramírez",
            "Jiménez",
            "Castañeda",
            "Núñez",
            "Ibáñez",
            "Gutiérrez",
            "Ortiz",
            "Vásquez",
            "Muñoz",
        ],
        ["María", "José", "Guadalupe", "Juan", "Verónica", "Raúl", "Adriana", "Jesús"],
    ),
    (
        "vi",
        9,
        ["Bảo", "Linh", "Minh", "Thảo", "Khánh", "Phương", "Huy", "Ngọc", "Tâm", "Quân"],
        ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"],
        ["Hương", "Tuấn", "Lan", "Dũng", "Hạnh"],
    ),
    (
        "so",
        5,
        ["Ayaan", "Hodan", "Abdi", "Farhan", "Ifrah", "Nasra", "Guled"],
        ["Warsame", "Hassan", "Abdullahi", "Osman", "Farah"],
        ["Sahra", "Mohamed", "Fadumo", "Ahmed"],
    ),
    (
        "ar",
        5,
        ["Yara", "Omar", "Layan", "Karim", "Nour", "Yousef"],
        ["Haddad", "Khalil", "Mansour", "Saleh", "Aziz"],
        ["Rania", "Samir", "Huda", "Tariq"],
    ),
    (
        "zh",
        5,
        ["Mei", "Jun", "Xinyi", "Hao", "Yiming", "Lan"],
        ["Li", "Wang", "Zhang", "Liu", "Chen", "Zhou"],
        ["Ling", "Wei", "Xiu", "Gang"],
    ),
    (
        "tl",
        4,
        ["Angelo", "Princess", "Mark Joseph", "Jasmine", "Kristine", "Paolo"],
        ["Santos", "Reyes", "Dela Cruz", "Bautista", "Villanueva"],
        ["Maricel", "Rodel", "Liza", "Ramon"],
    ),
    (
        "hmn",
        4,
        ["Pa Nhia", "Tou", "Mai", "Kou", "Nou", "Fue"],
        ["Vang", "Xiong", "Lor", "Yang", "Thao"],
        ["Youa", "Chue", "Xee", "Ger"],
    ),
    (
        "ko",
        4,
        ["Ji-woo", "Min-jun", "Seo-yeon", "Ha-eun", "Do-yoon"],
        ["Kim", "Park", "Choi", "Jung", "Kang"],
        ["Hye-jin", "Sung-min", "Eun-ji"],
    ),
]

# The partners added to the three of seed_demo's DEMO_PARTNERS, so that the directory has a
# dozen, of every kind: (name, fields, services, contacts, schools, verified days ago or None).
# A contact is (name, title, email, phone, preferred language, roles).
DIRECTORY = [
    (
        "Springfield Community Health Center",
        {
            "kind": "healthcare",
            "description": "A federally qualified health center with a school-based clinic: "
            "checkups, vision and hearing screenings, and psychiatric care.",
            "website": "https://springfieldhealth.example.org",
            "phone": "555-0162",
            "address": "410 Orchard Avenue",
            "city": "Springfield",
            "state": "CA",
            "postal_code": "95010",
            "languages": ["en", "es", "vi"],
            "delivery_modes": ["on_site", "at_partner", "telehealth"],
            "payments": ["medicaid", "private", "sliding_scale"],
            "min_age": 3,
            "max_age": 21,
            "intake": "accepting",
        },
        [
            ("health_screening", "Vision, hearing and dental screenings"),
            ("psychiatric_care", "Child and adolescent psychiatry"),
        ],
        [
            (
                "Dr. Lena Ortiz",
                "Medical director",
                "lena.ortiz@springfieldhealth.example.org",
                "555-0163",
                "",
                ["leadership"],
            ),
            (
                "Marcus Bell",
                "Patient services",
                "intake@springfieldhealth.example.org",
                "555-0164",
                "",
                ["intake", "billing"],
            ),
        ],
        ["Lincoln High School", "Roosevelt Middle School", "Washington Elementary School"],
        10,
    ),
    (
        "Casa de la Familia",
        {
            "kind": "faith_cultural",
            "description": "A Latino family center: parent workshops, cultural liaisons "
            "who join school meetings, and family support in Spanish.",
            "website": "https://casadelafamilia.example.org",
            "phone": "555-0171",
            "address": "88 Mission Street",
            "city": "Springfield",
            "state": "CA",
            "languages": ["es", "en"],
            "delivery_modes": ["at_partner", "on_site"],
            "payments": ["free"],
            "intake": "accepting",
        },
        [("cultural_liaison", "Family liaisons"), ("family_support", "Parent workshops")],
        [
            (
                "María Fernández",
                "Directora de programas",
                "maria@casadelafamilia.example.org",
                "555-0172",
                "es",
                ["leadership", "intake"],
            ),
        ],
        ["Roosevelt Middle School", "Washington Elementary School"],
        30,
    ),
    (
        "Lotus Vietnamese Community Center",
        {
            "kind": "faith_cultural",
            "description": "Interpreting, cultural liaisons and a Saturday heritage school.",
            "phone": "555-0175",
            "city": "Springfield",
            "state": "CA",
            "languages": ["vi", "en"],
            "delivery_modes": ["at_partner"],
            "payments": ["free"],
            "intake": "accepting",
        },
        [("cultural_liaison", "Interpreting and liaison"), ("after_school", "Heritage school")],
        [
            (
                "Thu Hà Lê",
                "Community liaison",
                "thuha@lotuscenter.example.org",
                "555-0176",
                "vi",
                ["intake"],
            ),
        ],
        ["Lincoln High School", "Washington Elementary School"],
        260,
    ),
    (
        "New Hope Recovery Services",
        {
            "kind": "mental_health",
            "description": "Substance use counseling and groups for teens and their families.",
            "website": "https://newhope.example.org",
            "phone": "555-0180",
            "city": "Springfield",
            "state": "CA",
            "languages": ["en", "es"],
            "delivery_modes": ["at_partner", "telehealth"],
            "payments": ["medicaid", "private", "sliding_scale"],
            "min_age": 12,
            "max_age": 19,
            "intake": "waitlist",
            "capacity": 4,
        },
        [("substance_use", "Teen recovery program"), ("counselling_group", "Family groups")],
        [
            (
                "Jordan Ellis",
                "Clinical director",
                "jordan.ellis@newhope.example.org",
                "555-0181",
                "",
                ["leadership"],
            ),
            (
                "Ana Ruiz",
                "Intake specialist",
                "intake@newhope.example.org",
                "555-0182",
                "",
                ["intake"],
            ),
        ],
        ["Lincoln High School"],
        60,
    ),
    (
        "Pathways Counseling Collective",
        {
            "kind": "mental_health",
            "description": "Licensed therapists offering crisis and short-term therapy.",
            "website": "https://pathways.example.org",
            "phone": "555-0185",
            "city": "Springfield",
            "state": "CA",
            "languages": ["en"],
            "delivery_modes": ["telehealth"],
            "payments": ["private", "sliding_scale"],
            "min_age": 10,
            "max_age": 18,
            "intake": "closed",
        },
        [("therapy", "Short-term therapy"), ("crisis_intervention", "")],
        [
            (
                "Dana Whitfield",
                "Practice manager",
                "dana@pathways.example.org",
                "555-0186",
                "",
                ["leadership", "intake"],
            ),
        ],
        ["Lincoln High School", "Roosevelt Middle School"],
        210,
    ),
    (
        "Riverbend Housing Alliance",
        {
            "kind": "social_services",
            "description": "Rent help, emergency shelter placement and McKinney-Vento "
            "support for families without stable housing.",
            "phone": "555-0190",
            "city": "Springfield",
            "state": "CA",
            "languages": ["en", "es"],
            "delivery_modes": ["at_partner"],
            "payments": ["free"],
            "intake": "accepting",
        },
        [("housing", "Family housing help"), ("emergency_aid", "Emergency funds")],
        [
            ("Terrence Holt", "Case manager", "", "555-0191", "", ["intake"]),
        ],
        ["Lincoln High School", "Roosevelt Middle School", "Washington Elementary School"],
        None,  # never verified
    ),
    (
        "Springfield Boys & Girls Club",
        {
            "kind": "youth",
            "description": "After-school program with homework help, sports and mentoring.",
            "website": "https://bgc-springfield.example.org",
            "phone": "555-0195",
            "city": "Springfield",
            "state": "CA",
            "languages": ["en", "es"],
            "delivery_modes": ["at_partner", "on_site"],
            "payments": ["sliding_scale"],
            "min_age": 6,
            "max_age": 18,
            "intake": "accepting",
            "capacity": 25,
        },
        [("after_school", "After-school program"), ("mentoring", "Teen mentoring")],
        [
            (
                "Keisha Moore",
                "Unit director",
                "keisha@bgc-springfield.example.org",
                "555-0196",
                "",
                ["leadership", "intake"],
            ),
        ],
        ["Roosevelt Middle School", "Washington Elementary School"],
        5,
    ),
    (
        "Springfield Public Library",
        {
            "kind": "other",
            "description": "Free homework help, tutoring and family literacy nights.",
            "website": "https://library.example.org",
            "phone": "555-0198",
            "city": "Springfield",
            "state": "CA",
            "languages": ["en", "es", "zh"],
            "delivery_modes": ["at_partner"],
            "payments": ["free"],
            "intake": "accepting",
        },
        [("after_school", "Homework help"), ("other", "Family literacy nights")],
        [
            (
                "Helen Park",
                "Youth services librarian",
                "helen.park@library.example.org",
                "555-0199",
                "",
                ["leadership"],
            ),
        ],
        ["Washington Elementary School"],
        90,
    ),
    (
        "Teen Peer Line",
        {
            "kind": "other",
            "description": "Trained teen volunteers answer calls and texts every evening.",
            "phone": "555-0150",
            "city": "Springfield",
            "state": "CA",
            "languages": ["en"],
            "delivery_modes": ["telehealth"],
            "payments": ["free"],
            "min_age": 13,
            "max_age": 19,
            "intake": "accepting",
        },
        [("peer_support", "Evening peer line")],
        [
            (
                "Riley Chen",
                "Volunteer coordinator",
                "riley@teenpeerline.example.org",
                "555-0151",
                "",
                ["leadership", "intake"],
            ),
        ],
        ["Lincoln High School"],
        400,
    ),
]

INVITED_EMAIL = "jamie.rivera@demo.trellis.test"


def seed_schools(district) -> None:
    """The demo's schools with their grades and ids (Lincoln and Roosevelt exist already)."""
    for name, (low, high, state_id, nces_id, sis_id) in DEMO_SCHOOL_DETAILS.items():
        details = {
            "lowest_grade": low,
            "highest_grade": high,
            "state_id": state_id,
            "nces_id": nces_id,
            "sis_id": sis_id,
        }
        school, created = School.objects.get_or_create(
            district=district, name=name, defaults=details
        )
        if not created and not school.sis_id:
            School.objects.filter(pk=school.pk).update(**details)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def _school_year_start(today: datetime.date) -> int:
    return today.year if today.month >= 8 else today.year - 1


def generated_students(district) -> list[Student]:
    """The generated students, unsaved: the same every time (random.Random(15))."""
    rng = random.Random(15)  # noqa: S311 (made-up names, not secrets)
    schools = {s.name: s for s in School.objects.for_district(district)}
    names = list(DEMO_SCHOOL_DETAILS)
    year = _school_year_start(district.today())
    weights = [group[1] for group in NAME_GROUPS]
    students = []
    for n in range(GENERATED_STUDENTS):
        language, _weight, firsts, lasts, guardians = rng.choices(NAME_GROUPS, weights)[0]
        first, last, guardian = rng.choice(firsts), rng.choice(lasts), rng.choice(guardians)
        low, high = DEMO_SCHOOL_DETAILS[names[n % len(names)]][:2]
        grade = rng.choice(GRADES[GRADES.index(low) : GRADES.index(high) + 1])
        # Five on the first of September of kindergarten, a year older each grade after.
        born = datetime.date(year - 6 - GRADES.index(grade), 9, 2) + timedelta(
            days=rng.randrange(365)
        )
        local_id = f"D{FIRST_GENERATED_ID + n}"
        students.append(
            Student(
                district=district,
                school=schools[names[n % len(names)]],
                local_id=local_id,
                first_name=first,
                last_name=last,
                preferred_name="",
                date_of_birth=born,
                grade=grade,
                guardian_name=f"{guardian} {last}",
                guardian_email=f"family.{_ascii(first)}.{_ascii(last)}.{n + 1}@example.org",
                guardian_phone=f"555-{2000 + n:04d}",
                family_language=language,
            )
        )
    return students


def seed_students(district) -> None:
    """A few hundred made-up students, so that the student list pages (never real people)."""
    existing = set(
        Student.objects.for_district(district)
        .filter(local_id__startswith="D3")
        .values_list("local_id", flat=True)
    )
    new = [s for s in generated_students(district) if s.local_id not in existing]
    if new:
        Student.objects.bulk_create(new, ignore_conflicts=True)


def seed_directory(district) -> None:
    """The rest of the dozen partners, through the directory service; a partner that exists
    (by name) is left as people left it."""
    from partnerships.services.directory import partner_save

    coordinator = _member(district, Role.COORDINATOR)
    if coordinator is None:
        return
    schools = {s.name: s.pk for s in School.objects.for_district(district)}
    have = set(Partner.objects.for_district(district).values_list("name", flat=True))
    now = timezone.now()
    for name, fields, services, contacts, school_names, verified_days_ago in DIRECTORY:
        if name in have:
            continue
        partner = partner_save(
            by=coordinator,
            fields={"name": name, **fields},
            school_ids=[schools[school] for school in school_names],
            services=[
                {"id": None, "category": category, "name": label, "description": ""}
                for category, label in services
            ],
            contacts=[
                {
                    "id": None,
                    "name": contact,
                    "title": title,
                    "email": email,
                    "phone": phone,
                    "preferred_language": language,
                    "roles": roles,
                    "reminders": bool(email),
                }
                for contact, title, email, phone, language, roles in contacts
            ],
        )
        if verified_days_ago is not None:
            Partner.objects.filter(pk=partner.pk).update(
                last_verified_at=now - timedelta(days=verified_days_ago),
                last_verified_by=contacts[0][0],
            )


def seed_invitation(district) -> None:
    """A counselor invited by the administrator who has not accepted yet (the admin's
    inbox shows it). Once made it is left alone, even after it expires."""
    from schools.services.people import invitation_create

    if Invitation.objects.for_district(district).filter(email=INVITED_EMAIL).exists():
        return
    admin = _member(district, Role.ADMIN)
    school = School.objects.for_district(district).filter(name="Washington Elementary School")
    if admin is None:
        return
    invitation_create(by=admin, email=INVITED_EMAIL, role=Role.COUNSELOR, schools=list(school))


def _member(district, role) -> Membership | None:
    return (
        Membership.objects.for_district(district)
        .filter(role=role, active=True)
        .select_related("user", "district")
        .order_by("pk")
        .first()
    )

"""The demo product catalogue: bilingual categories and products, and the co-purchase affinities."""

from __future__ import annotations

# code, top-level name, [(sku suffix, product name, price in yuan)]
CATALOG = [
    (
        "phones",
        "手机 Phones",
        [
            ("P1", "星辰 X1 手机 Xingchen X1 phone", 3999),
            ("P2", "青春版 Lite phone 青春版", 1499),
            ("P3", "折叠屏 Fold phone 折叠屏", 8999),
            ("P4", "老人机 Senior phone 老人机", 399),
        ],
    ),
    (
        "accessories",
        "配件 Accessories",
        [
            ("A1", "手机壳 Phone case", 39),
            ("A2", "快充头 Fast charger", 99),
            ("A3", "蓝牙耳机 Bluetooth earbuds", 299),
            ("A4", "钢化膜 Screen protector", 29),
            ("A5", "充电宝 Power bank", 129),
        ],
    ),
    (
        "baby",
        "母婴 Baby",
        [
            ("B1", "纸尿裤 Diapers", 119),
            ("B2", "婴儿奶粉 Infant formula", 268),
            ("B3", "婴儿推车 Stroller", 1299),
            ("B4", "湿巾 Baby wipes", 35),
        ],
    ),
    (
        "toys",
        "玩具 Toys",
        [
            ("T1", "积木 Building blocks", 199),
            ("T2", "毛绒熊 Plush bear", 89),
            ("T3", "遥控车 RC car", 259),
            ("T4", "拼图 Jigsaw puzzle", 59),
        ],
    ),
    (
        "beauty",
        "美妆 Beauty",
        [
            ("M1", "精华液 Serum", 459),
            ("M2", "口红 Lipstick", 229),
            ("M3", "面膜 Face masks", 99),
            ("M4", "防晒霜 Sunscreen", 139),
        ],
    ),
    (
        "apparel",
        "服饰 Apparel",
        [
            ("C1", "羽绒服 Down jacket", 899),
            ("C2", "T恤 T-shirt", 79),
            ("C3", "运动鞋 Sneakers", 499),
            ("C4", "牛仔裤 Jeans", 259),
        ],
    ),
    (
        "appliances",
        "家电 Home appliances",
        [
            ("H1", "扫地机器人 Robot vacuum", 2499),
            ("H2", "空气炸锅 Air fryer", 399),
            ("H3", "电视 65寸 65-inch TV", 4599),
            ("H4", "净水器 Water purifier", 1899),
        ],
    ),
    (
        "groceries",
        "食品 Groceries",
        [
            ("G1", "大米 Rice 5kg", 69),
            ("G2", "坚果礼盒 Nut gift box", 168),
            ("G3", "茶叶 Tea", 238),
            ("G4", "牛奶 Milk crate", 65),
        ],
    ),
    (
        "sports",
        "运动 Sports",
        [
            ("S1", "瑜伽垫 Yoga mat", 129),
            ("S2", "跑步机 Treadmill", 3299),
            ("S3", "羽毛球拍 Badminton racket", 269),
        ],
    ),
    (
        "books",
        "图书 Books",
        [
            ("K1", "儿童绘本 Picture books", 99),
            ("K2", "小说 Novel", 49),
            ("K3", "编程入门 Programming primer", 89),
        ],
    ),
]
# Categories bought together: the association rules the profile pipeline should rediscover.
AFFINITY_PAIRS = [
    ("phones", "accessories"),
    ("baby", "toys"),
    ("beauty", "apparel"),
    ("appliances", "groceries"),
    ("sports", "apparel"),
    ("books", "toys"),
]

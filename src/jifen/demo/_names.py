"""Chinese names for the demo company, with the pinyin that makes their e-mail addresses.

Surnames carry rough relative frequencies (王, 李 and 张 are each about 7% of the
population), flattened a little so a 300-person company doesn't look like a family reunion.
Given names are one or two characters drawn from pools of characters common in names of
people born 1970–2000; polyphonic characters are left out so the pinyin is right.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# (surname, pinyin, relative frequency)
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.2), ("李", "li", 7.1), ("张", "zhang", 6.8), ("刘", "liu", 5.4),
    ("陈", "chen", 4.6), ("杨", "yang", 3.1), ("黄", "huang", 2.5), ("赵", "zhao", 2.3),
    ("吴", "wu", 2.0), ("周", "zhou", 1.9), ("徐", "xu", 1.3), ("孙", "sun", 1.3),
    ("马", "ma", 1.2), ("朱", "zhu", 1.2), ("胡", "hu", 1.1), ("郭", "guo", 1.1),
    ("何", "he", 1.0), ("林", "lin", 1.0), ("高", "gao", 1.0), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.9), ("梁", "liang", 0.8), ("谢", "xie", 0.7), ("宋", "song", 0.7),
    ("唐", "tang", 0.7), ("许", "xu", 0.6), ("韩", "han", 0.6), ("冯", "feng", 0.6),
    ("邓", "deng", 0.6), ("曹", "cao", 0.6), ("彭", "peng", 0.5), ("曾", "zeng", 0.5),
    ("肖", "xiao", 0.5), ("田", "tian", 0.5), ("董", "dong", 0.5), ("袁", "yuan", 0.5),
    ("潘", "pan", 0.4), ("于", "yu", 0.4), ("蒋", "jiang", 0.4), ("蔡", "cai", 0.4),
    ("余", "yu", 0.4), ("杜", "du", 0.4), ("叶", "ye", 0.4), ("程", "cheng", 0.4),
    ("苏", "su", 0.3), ("魏", "wei", 0.3), ("吕", "lv", 0.3), ("丁", "ding", 0.3),
    ("任", "ren", 0.3), ("沈", "shen", 0.3), ("姚", "yao", 0.3), ("卢", "lu", 0.3),
    ("姜", "jiang", 0.3), ("崔", "cui", 0.3), ("钟", "zhong", 0.3), ("谭", "tan", 0.3),
    ("陆", "lu", 0.3), ("汪", "wang", 0.2), ("范", "fan", 0.2), ("金", "jin", 0.2),
    ("石", "shi", 0.2), ("廖", "liao", 0.2), ("贾", "jia", 0.2), ("夏", "xia", 0.2),
    ("韦", "wei", 0.2), ("付", "fu", 0.2), ("方", "fang", 0.2), ("白", "bai", 0.2),
    ("邹", "zou", 0.2), ("孟", "meng", 0.2), ("熊", "xiong", 0.2), ("秦", "qin", 0.2),
    ("邱", "qiu", 0.2), ("江", "jiang", 0.2), ("尹", "yin", 0.2), ("薛", "xue", 0.2),
    ("闫", "yan", 0.2), ("段", "duan", 0.2), ("雷", "lei", 0.2), ("侯", "hou", 0.2),
    ("龙", "long", 0.2), ("史", "shi", 0.2), ("陶", "tao", 0.15), ("黎", "li", 0.15),
    ("贺", "he", 0.15), ("顾", "gu", 0.15), ("毛", "mao", 0.15), ("郝", "hao", 0.15),
    ("龚", "gong", 0.15), ("邵", "shao", 0.15), ("万", "wan", 0.15), ("钱", "qian", 0.15),
    ("严", "yan", 0.15), ("武", "wu", 0.15), ("戴", "dai", 0.15), ("莫", "mo", 0.1),
    ("孔", "kong", 0.1), ("汤", "tang", 0.1), ("欧阳", "ouyang", 0.05),
    ("上官", "shangguan", 0.02),
)

# Characters for given names: the first pool opens a two-character name, the second
# closes it or stands alone.
_MALE_FIRST = (
    "子zi 浩hao 宇yu 俊jun 嘉jia 志zhi 建jian 国guo 文wen 晓xiao 思si 天tian 明ming 立li "
    "家jia 永yong 振zhen 博bo 泽ze 睿rui 鹏peng 海hai 宏hong 凯kai 一yi 浩hao 晨chen 铭ming "
    "新xin 东dong 少shao 云yun 子zi 昊hao 伟wei 俊jun 承cheng 正zheng 德de 维wei"
)
_MALE_LAST = (
    "伟wei 强qiang 磊lei 军jun 洋yang 勇yong 杰jie 涛tao 明ming 超chao 鹏peng 辉hui 浩hao "
    "宇yu 博bo 凯kai 航hang 斌bin 峰feng 然ran 轩xuan 昊hao 睿rui 泽ze 亮liang 毅yi 健jian "
    "林lin 波bo 成cheng 坤kun 翔xiang 飞fei 阳yang 旭xu 远yuan 骏jun 哲zhe 诚cheng 松song "
    "华hua 平ping 刚gang 晨chen 宁ning 彬bin 鑫xin 帆fan 琦qi 楠nan 峻jun 恒heng 岩yan"
)
_FEMALE_FIRST = (
    "佳jia 思si 雨yu 晓xiao 欣xin 梦meng 诗shi 雅ya 婉wan 静jing 嘉jia 子zi 紫zi 若ruo "
    "心xin 语yu 美mei 丽li 秀xiu 慧hui 春chun 艺yi 梓zi 欣xin 可ke 安an 玉yu 晴qing 文wen "
    "一yi 海hai 亚ya 瑞rui 怡yi 冰bing 婧jing"
)
_FEMALE_LAST = (
    "芳fang 娜na 敏min 静jing 丽li 艳yan 娟juan 霞xia 燕yan 玲ling 婷ting 雪xue 慧hui "
    "颖ying 琳lin 欣xin 怡yi 佳jia 雯wen 瑶yao 璐lu 倩qian 晶jing 悦yue 萍ping 红hong "
    "丹dan 莉li 蕾lei 洁jie 妍yan 涵han 琪qi 菲fei 月yue 英ying 兰lan 宁ning 彤tong "
    "露lu 薇wei 蓉rong 馨xin 曼man 晴qing 楠nan 茹ru 婕jie 琴qin 嫣yan 瑜yu 岚lan 珊shan"
)


def _pool(text: str) -> tuple[tuple[str, str], ...]:
    # "子zi 浩hao" → (("子", "zi"), ("浩", "hao")), keeping the first of any repeats.
    seen: dict[str, str] = {}
    for token in text.split():
        seen.setdefault(token[0], token[1:])
    return tuple(seen.items())


MALE_FIRST = _pool(_MALE_FIRST)
MALE_LAST = _pool(_MALE_LAST)
FEMALE_FIRST = _pool(_FEMALE_FIRST)
FEMALE_LAST = _pool(_FEMALE_LAST)


@dataclass(frozen=True)
class PersonName:
    name: str
    pinyin: str  # surname then given name, no spaces: "zhangjiahao"


class NameGenerator:
    """Draws names that are unique within one generator (one company)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self._surnames = [(s, p) for s, p, _w in SURNAMES]
        self._weights = [w**0.8 for _s, _p, w in SURNAMES]

    def draw(self) -> PersonName:
        while True:
            surname, surname_py = self.rng.choices(self._surnames, self._weights)[0]
            female = self.rng.random() < 0.48
            first_pool, last_pool = (
                (FEMALE_FIRST, FEMALE_LAST) if female else (MALE_FIRST, MALE_LAST)
            )
            last, last_py = self.rng.choice(last_pool)
            if self.rng.random() < 0.22:
                given, given_py = last, last_py
            else:
                first, first_py = self.rng.choice(first_pool)
                if first == last:
                    continue
                given, given_py = first + last, first_py + last_py
            if given == surname:
                continue
            name = surname + given
            if name in self.used:
                continue
            self.used.add(name)
            return PersonName(name=name, pinyin=surname_py + given_py)

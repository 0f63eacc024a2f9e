"""Build eval/other/questions.jsonl from the hand-written list below.

Run: python3 eval/other/tools/build_questions.py  (then check_questions.py)
"""
import json, pathlib

HERE = pathlib.Path(__file__).resolve().parent.parent
S, H, E = "linjiang-stat-2022", "dongchuan-health-2023", "nanhu-edu-2021"

def F(*pairs):
    return [{"value": v, "unit": u} for v, u in pairs]

# (doc, lang, kind, question, figures, quote)   quote None => unanswerable
Q = [
 # ---------------- stat-bulletin-2022 (Linjiang) ----------------
 (S,"zh","money","临江市2022年地区生产总值是多少？",F((8625.43,"亿元")),"初步核算，全年全市地区生产总值（GDP）8625.43亿元"),
 (S,"en","growth","By how much did Linjiang's economy expand in real terms in 2022?",F((4.6,"%")),"按不变价格计算，比上年增长4.6%"),
 (S,"zh","rank","临江市经济总量在全省排第几位？",F((3,"位")),"经济总量居全省第三位"),
 (S,"en","count","How many people were living in the city at the end of 2022?",F((930.6,"万人")),"年末全市常住人口930.6万人，比上年末增加2.6万人"),
 (S,"zh","growth","2022年末临江市常住人口城镇化率比上年末提高了多少个百分点？",F((0.62,"个百分点")),"常住人口城镇化率为74.45%，比上年末提高0.62个百分点"),
 (S,"en","count","How many new jobs were created in cities and towns during 2022?",F((13.8,"万人")),"全年城镇新增就业13.8万人"),
 (S,"zh","growth","2022年临江居民消费价格比上年上涨了多少？",F((2.1,"%")),"全年居民消费价格（CPI）比上年上涨2.1%"),
 (S,"en","count","What was the city's total grain harvest in 2022?",F((215.8,"万吨")),"粮食总产量215.8万吨，比上年增长1.2%"),
 (S,"en","duration","For how many years in a row has the grain harvest stayed above two million tonnes?",F((8,"年")),"连续8年稳定在200万吨以上"),
 (S,"zh","count","2022年临江市生猪出栏多少头？",F((312.7,"万头")),"全年生猪出栏312.7万头，比上年增长3.5%"),
 (S,"en","count","How many motor vehicles did the city's factories turn out last year?",F((86.5,"万辆")),"汽车产量86.5万辆，比上年增长12.4%"),
 (S,"zh","percent","新能源汽车产量占全市汽车产量的比重大约是多少？",F((3,"成")),"占全市汽车产量的比重接近三成"),
 (S,"en","growth","By what multiple did output of electric and other alternative-fuel cars increase over the previous year?",F((1.1,"倍")),"其中新能源汽车产量25.1万辆，增长1.1倍"),
 (S,"zh","count","2022年全市旅客运输量是多少？",F((1.26,"亿人次")),"全年旅客运输量1.26亿人次，比上年下降27.4%"),
 (S,"en","money","What was the combined value of merchandise exports and imports in 2022?",F((2438.65,"亿元")),"全年货物进出口总额2438.65亿元，比上年增长6.2%，总量居全省第2位"),
 (S,"zh","date","临江市2022年统计公报的发布日期是哪天？",F((2023,"年"),(3,"月"),(16,"日")),"2023年3月16日"),
 (S,"en","money","What was the average disposable income per person across all residents in 2022?",F((51526,"元")),"全年全体居民人均可支配收入51526元，比上年增长5.0%"),
 (S,"zh","ratio","2022年临江市城乡居民人均可支配收入之比是多少？",F((1.97,"比1")),"城乡居民人均可支配收入之比由上年的2.01比1缩小至1.97比1"),
 (S,"en","growth","By what percentage did energy use per unit of economic output fall in 2022?",F((3.2,"%")),"全年万元地区生产总值能耗比上年下降3.2%"),
 (S,"zh","ratio","2022年临江市三次产业结构是怎样的比例？",F((4.8,""),(40.8,""),(54.4,"")),"三次产业结构由上年的4.7:40.5:54.8调整为4.8:40.8:54.4"),
 (S,"en","duration","Over what time frame does the city intend to build up its eight industrial clusters worth over 100 billion yuan each?",F((3,"年"),(5,"年")),"计划用3到5年时间培育形成8个千亿级产业集群"),
 (S,"en","text","What difficulties did the city face in 2022 according to the opening of the communique?",[],"面对超预期因素冲击和复杂严峻的发展环境"),
 (S,"zh","text","公报中地区生产总值的绝对数和增长速度分别按什么价格计算？",[],"地区生产总值、各产业增加值绝对数按现价计算，增长速度按不变价格计算。"),
 (S,"en","text","Among goods sold by larger retailers, which type of product recorded the fastest growth in retail sales?",[],"其中新能源汽车零售额增长87.6%"),
 (S,"zh","text","截至2022年末，临江市5G网络覆盖情况如何？",[],"累计建成5G基站2.35万个，实现城区和乡镇全覆盖"),
 (S,"zh","text","为什么公报中有些总计与分项合计不相等？",[],"部分数据因四舍五入的原因，存在总计与分项合计不等的情况。"),
 (S,"zh","money","临江市2023年地区生产总值是多少亿元？",[],None),
 (S,"en","percent","What was the jobless rate among young people aged 16 to 24 in the city in 2022?",[],None),
 (S,"zh","percent","2022年临江市研究与试验发展经费支出占地区生产总值的比重是多少？",[],None),
 (S,"en","count","How many overseas visitors came to the city in 2022?",[],None),

 # ---------------- health-report-2023 (Dongchuan) ----------------
 (H,"zh","count","2023年末东川省医疗卫生机构总数是多少个？",F((34562,"个")),"2023年末，全省医疗卫生机构总数达34562个，比上年增加418个"),
 (H,"zh","count","2023年末全省医疗卫生机构床位有多少？",F((35.62,"万张")),"2023年末，全省医疗卫生机构床位35.62万张，比上年增加1.24万张"),
 (H,"en","ratio","How many beds in health facilities were available per thousand residents?",F((7.39,"张")),"每千人口医疗卫生机构床位数为7.39张"),
 (H,"zh","count","2023年末全省卫生技术人员有多少人？",F((41.25,"万人")),"其中，卫生技术人员41.25万人"),
 (H,"en","count","How many registered nurses did the province have at the end of 2023?",F((18.74,"万人")),"注册护士18.74万人"),
 (H,"zh","count","2023年全省医疗卫生机构总诊疗人次是多少？",F((3.12,"亿人次")),"2023年，全省医疗卫生机构总诊疗人次达3.12亿人次，比上年增长9.5%"),
 (H,"zh","count","2023年全省医疗卫生机构出院人数是多少？",F((982.7,"万人")),"出院人数982.7万人"),
 (H,"en","duration","On average, how long did patients stay in hospital before being discharged in 2023?",F((8.6,"天")),"医院出院者平均住院日为8.6天，比上年缩短0.3天"),
 (H,"zh","percent","2023年全省医院病床使用率是多少？",F((82.6,"%")),"2023年，全省医院病床使用率为82.6%，比上年提高6.3个百分点"),
 (H,"en","ratio","How many women died from pregnancy-related causes per 100,000 live births in 2023?",F((8.6,"/10万")),"孕产妇死亡率为8.6/10万"),
 (H,"zh","ratio","2023年东川省婴儿死亡率是多少？",F((3.1,"‰")),"婴儿死亡率为3.1‰"),
 (H,"en","percent","What share of the resident population had signed a contract with a family doctor?",F((42.6,"%")),"全省常住人口家庭医生签约率为42.6%"),
 (H,"zh","age","2023年全省居民人均预期寿命是多少岁？",F((79.12,"岁")),"2023年，全省居民人均预期寿命达到79.12岁，比上年提高0.36岁，比2020年提高0.94岁"),
 (H,"en","growth","How much longer is life expectancy now than it was in 2020?",F((0.94,"岁")),"2023年，全省居民人均预期寿命达到79.12岁，比上年提高0.36岁，比2020年提高0.94岁"),
 (H,"zh","count","2023年全省共报告甲乙类法定传染病多少例？",F((16.85,"万例")),"全省共报告甲乙类法定传染病16.85万例，死亡486人"),
 (H,"en","count","How many doses of vaccines under the national immunization programme were administered in 2023?",F((1286.5,"万剂次")),"全年全省共接种免疫规划疫苗1286.5万剂次"),
 (H,"zh","money","2023年全省公立医院次均住院费用是多少元？",F((10486.5,"元")),"次均住院费用10486.5元，比上年下降1.3%"),
 (H,"en","duration","How quickly do ambulances respond to emergency calls on average?",F((12.5,"分钟")),"全省院前急救平均反应时间缩短至12.5分钟"),
 (H,"zh","count","2023年全省报告孕产妇死亡多少例？",F((27,"例")),"全年报告孕产妇死亡27例"),
 (H,"en","age","Girls of which ages were offered free cervical-cancer (HPV) shots at school?",F((13,"岁"),(14,"岁")),"全年为13至14岁在校女生免费接种人乳头瘤病毒（HPV）疫苗12.6万剂次"),
 (H,"en","percent","Roughly what proportion of registered childcare centres provide affordable, publicly supported places?",F((6,"成")),"其中提供普惠性托育服务的机构占比超过六成"),
 (H,"en","text","How do the province's main health indicators compare with the national picture?",[],"全省主要健康指标优于全国平均水平，位居中西部地区前列"),
 (H,"zh","text","2023年东川省对新冠病毒感染实施了怎样的管理？",[],"平稳有序实施新冠病毒感染“乙类乙管”"),
 (H,"en","text","Whose healthcare-reform model did the province roll out more widely in 2023?",[],"全省深入推广三明医改经验，持续推进公立医院高质量发展"),
 (H,"zh","text","东川省临床用血来自哪里？",[],"临床用血全部来自无偿献血"),
 (H,"zh","count","2024年末东川省医疗卫生机构总数是多少？",[],None),
 (H,"en","count","How many deaths from COVID-19 were reported in the province in 2023?",[],None),
 (H,"zh","count","东川省三级甲等医院平均每家有多少张床位？",[],None),
 (H,"en","money","What was the average yearly pay of doctors working in the province's public hospitals?",[],None),
 (H,"en","ratio","What was the suicide rate per 100,000 population in the province in 2023?",[],None),

 # ---------------- education-report-2021 (Nanhu) ----------------
 (E,"zh","count","2021年南湖市共有各级各类学校多少所？",F((4082,"所")),"2021年，全市共有各级各类学校4082所，比上年增加36所"),
 (E,"en","count","How many learners were enrolled across all levels of formal education, kindergarten children included?",F((187.44,"万人")),"各级各类学历教育在校生（含在园幼儿）187.44万人，比上年增加3.18万人"),
 (E,"zh","ratio","2021年南湖市小学生师比是多少？",F((17.5,":1")),"小学专任教师4.14万人，生师比为17.5:1"),
 (E,"en","ratio","How many pupils were there for every teacher in lower secondary schools?",F((12.6,":1")),"初中专任教师2.48万人，生师比为12.6:1"),
 (E,"zh","percent","2021年南湖市高等教育毛入学率是多少？",F((62.3,"%")),"全市高等教育毛入学率为62.3%，比2020年提高2.1个百分点"),
 (E,"en","growth","Compared with 2020, by how many percentage points did the gross enrolment ratio in tertiary education go up?",F((2.1,"个百分点")),"全市高等教育毛入学率为62.3%，比2020年提高2.1个百分点"),
 (E,"zh","money","2021年全市教育经费总投入是多少？",F((468.35,"亿元")),"2021年，全市教育经费总投入468.35亿元，比上年增长7.6%"),
 (E,"en","percent","Public spending on education amounted to what share of the city's economic output?",F((3.88,"%")),"占全市地区生产总值的比例为3.88%"),
 (E,"zh","other","2021年全市新建校舍面积是多少？",F((168.5,"万平方米")),"新建校舍面积168.5万平方米"),
 (E,"en","count","How many extra school places were added by building and expanding primary, secondary schools and kindergartens during the year?",F((7.2,"万个")),"新增学位7.2万个"),
 (E,"zh","duration","南湖市劳动年龄人口平均受教育年限是多少年？",F((11.6,"年")),"全市劳动年龄人口平均受教育年限达到11.6年"),
 (E,"en","duration","What is the upper limit on the average time lower secondary students should spend on written homework?",F((90,"分钟")),"初中书面作业平均完成时间不超过90分钟"),
 (E,"zh","count","义务教育阶段学科类校外培训机构压减到了多少家？",F((126,"家")),"全市义务教育阶段学科类校外培训机构由1268家压减至126家，压减率为90.1%"),
 (E,"zh","rank","在全省教育现代化发展水平监测中，南湖市综合得分排第几？",F((2,"位")),"全市综合得分居全省第2位"),
 (E,"en","money","Within what range does the monthly living allowance paid to rural teachers fall?",F((400,"元"),(1200,"元")),"标准为每人每月400元到1200元"),
 (E,"zh","ratio","2021年南湖市普通高中与中等职业学校招生数之比是多少？",F((1.65,"比1")),"普通高中与中等职业学校招生数之比为1.65比1"),
 (E,"en","count","How many school heads and teachers were rotated between schools in the compulsory phase in 2021?",F((3126,"人")),"全年义务教育阶段校长教师交流轮岗3126人"),
 (E,"zh","count","乡村教师生活补助惠及多少乡村教师？",F((1.8,"万人")),"惠及乡村教师近1.8万人"),
 (E,"zh","growth","2021年普通本专科在校生比2020年增加了多少？",F((1.36,"万人")),"在校生19.85万人，比2020年增加1.36万人"),
 (E,"en","ratio","How many primary and secondary pupils share each computer?",F((7.5,"比1")),"中小学生机比达到7.5比1"),
 (E,"en","duration","What is the minimum amount of physical activity pupils must get at school every day?",F((1,"小时")),"学生每天校内体育活动时间不少于1小时"),
 (E,"zh","text","对小学一、二年级的书面家庭作业有什么规定？",[],"小学一、二年级不布置书面家庭作业"),
 (E,"en","text","What rule governs when after-school programmes should finish each day?",[],"课后服务结束时间原则上不早于当地正常下班时间"),
 (E,"zh","text","南湖市对义务教育教师的工资收入水平提出了什么要求？",[],"全市落实义务教育教师平均工资收入水平不低于当地公务员平均工资收入水平的要求"),
 (E,"en","text","How did the oversight of online tutoring firms for core school subjects change?",[],"线上学科类校外培训机构全部完成由备案制改为审批制"),
 (E,"en","text","How are small rural schools being paired with urban schools, and what does the partnership involve?",[],"通过“城乡教育共同体”实现教师互派、课程共享和教研联动"),
 (E,"en","money","How much did the city spend on education in total in 2022?",[],None),
 (E,"zh","percent","2021年南湖市高考本科上线率是多少？",[],None),
 (E,"en","count","How many foreign students were studying at the city's universities?",[],None),
 (E,"zh","age","南湖市中小学专任教师的平均年龄是多少岁？",[],None),
]

out = HERE / "questions.jsonl"
with out.open("w", encoding="utf-8") as f:
    for i, (doc, lang, kind, q, figs, quote) in enumerate(Q, 1):
        rec = {"id": f"o{i:03d}", "lang": lang, "question": q,
               "answerable": quote is not None, "figures": figs,
               "quote": quote if quote is not None else "",
               "doc_id": doc, "kind": kind}
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
print(len(Q), "questions written to", out)
